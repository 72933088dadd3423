package peergroups

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// CalendarLinkGrace is how long after its event a member's calendar link still works.
const CalendarLinkGrace = 7 * 24 * time.Hour

// CalendarLinkPath is where a member's calendar link points; the token is in the query.
const CalendarLinkPath = "/calendar.ics"

// CalendarLink returns the path and query of a member's own link to their group's
// event with its full details (address, online link, facilitator's note). It is
// sealed for email, for its own purpose, and expires CalendarLinkGrace after the event.
func CalendarLink(sealer *links.Sealer, email string, round int, group string, end, now time.Time) (string, error) {
	ttl := end.Add(CalendarLinkGrace).Sub(now)
	if ttl < time.Hour {
		ttl = time.Hour // an event long past: the link still opens, briefly
	}
	token, err := sealer.Seal(links.Claims{Purpose: links.Calendar, Email: email, Subject: fmt.Sprintf("%d/%s", round, group)}, ttl)
	if err != nil {
		return "", fmt.Errorf("seal calendar link: %w", err)
	}
	return CalendarLinkPath + "?token=" + url.QueryEscape(token), nil
}

// CalendarLinkFor returns the calendar link of the person an RSVP is for.
func (s *RSVPs) CalendarLinkFor(v RSVP) (string, error) {
	return CalendarLink(s.Links, v.Email, v.Round.Number, v.Group.ID, v.Event.End, s.Now())
}

// MemberEvent opens a member's calendar link and returns the event it is for, with
// its round and group, changing nothing. A draft round has no events to show.
func (s *Rounds) MemberEvent(ctx context.Context, token string) (Round, Group, Event, error) {
	claims, err := s.Links.Open(token, links.Calendar)
	switch {
	case errors.Is(err, links.ErrExpired):
		return Round{}, Group{}, Event{}, ErrLinkExpired
	case err != nil:
		return Round{}, Group{}, Event{}, ErrLinkInvalid
	}
	roundText, groupID, ok := strings.Cut(claims.Subject, "/")
	number, convErr := strconv.Atoi(roundText)
	if !ok || convErr != nil {
		return Round{}, Group{}, Event{}, ErrLinkInvalid
	}
	r, events, err := s.Round(ctx, number)
	if err != nil {
		return Round{}, Group{}, Event{}, err
	}
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return Round{}, Group{}, Event{}, err
	}
	for _, e := range events {
		if e.GroupID == groupID && r.State != RoundDraft {
			return r, g, e, nil
		}
	}
	return Round{}, Group{}, Event{}, Errorf(KindNotFound, "The %s peer group has no event for round %d.", g.Name, number)
}
