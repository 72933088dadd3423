package peergroups

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// Answers to "are you coming?".
const (
	Going    = "going"
	Waiting  = "waiting" // going, but the event is full: on the waiting list
	NotGoing = "not-going"
)

// Attendance is one person's answer for a group's event.
type Attendance struct {
	Round  int
	Group  string
	Email  string
	Name   string
	Status string
	Since  time.Time // when they took this status: the waiting list's order
}

// AttendanceStore keeps answers and the count of places taken.
type AttendanceStore interface {
	Attendance(ctx context.Context, round int, group, email string) (Attendance, error)
	Attendees(ctx context.Context, round int, group string) ([]Attendance, error)
	// Attend takes a place if one is free (true), or puts the person on the waiting list.
	Attend(ctx context.Context, a Attendance) (bool, error)
	// Withdraw gives up a place (or a place on the waiting list) and records "not going".
	Withdraw(ctx context.Context, a Attendance, hadPlace bool) error
	// Promote gives a waiting person a free place; false if there is none or they are
	// no longer waiting.
	Promote(ctx context.Context, a Attendance, at time.Time) (bool, error)
}

// NextOnWaitingList returns who has waited longest, or false.
func NextOnWaitingList(all []Attendance) (Attendance, bool) {
	var waiting []Attendance
	for _, a := range all {
		if a.Status == Waiting {
			waiting = append(waiting, a)
		}
	}
	if len(waiting) == 0 {
		return Attendance{}, false
	}
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Since.Before(waiting[j].Since) })
	return waiting[0], true
}

// RSVP is what an "I'm going" link is about.
type RSVP struct {
	Round  Round
	Group  Group
	Event  Event
	Email  string
	Name   string
	Status string // the current answer, "" when none
}

// openRSVP reads an RSVP link and what it is about.
func (s *Service) openRSVP(ctx context.Context, token string) (RSVP, error) {
	claims, err := s.Links.Open(token, links.RSVP)
	switch {
	case errors.Is(err, links.ErrExpired):
		return RSVP{}, ErrLinkExpired
	case err != nil:
		return RSVP{}, ErrLinkInvalid
	}
	roundText, groupID, ok := strings.Cut(claims.Subject, "/")
	number, convErr := strconv.Atoi(roundText)
	if !ok || convErr != nil {
		return RSVP{}, ErrLinkInvalid
	}
	r, events, err := s.Round(ctx, number)
	if err != nil {
		return RSVP{}, err
	}
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return RSVP{}, err
	}
	v := RSVP{Round: r, Group: g, Email: claims.Email, Name: claims.Name}
	found := false
	for _, e := range events {
		if e.GroupID == groupID {
			v.Event, found = e, true
		}
	}
	if !found {
		return RSVP{}, Errorf(KindNotFound, "The %s peer group has no event for round %d.", g.Name, number)
	}
	a, err := s.Store.Attendance(ctx, number, groupID, claims.Email)
	if err != nil && KindOf(err) != KindNotFound {
		return RSVP{}, fmt.Errorf("read answer: %w", err)
	}
	v.Status = a.Status
	return v, nil
}

// RSVPFor returns what an RSVP link is about, changing nothing.
func (s *Service) RSVPFor(ctx context.Context, token string) (RSVP, error) {
	return s.openRSVP(ctx, token)
}

// Answer records "going" or "not going" from an RSVP link. Going takes a place while
// there is one, then joins the waiting list; giving up a place offers it to whoever
// has waited longest, who is emailed. Answering again changes the answer.
func (s *Service) Answer(ctx context.Context, token, answer string) (RSVP, error) {
	v, err := s.openRSVP(ctx, token)
	if err != nil {
		return v, err
	}
	if v.Event.Start.Before(s.Now()) {
		return v, Errorf(KindGone, "This event has already happened.")
	}
	a := Attendance{Round: v.Round.Number, Group: v.Group.ID, Email: v.Email, Name: v.Name, Since: s.Now()}
	switch answer {
	case Going:
		if v.Status == Going || v.Status == Waiting {
			return v, nil
		}
		got, err := s.Store.Attend(ctx, a)
		if err != nil {
			return v, fmt.Errorf("attend: %w", err)
		}
		v.Status = Waiting
		if got {
			v.Status = Going
		}
	case NotGoing:
		if v.Status == NotGoing {
			return v, nil
		}
		hadPlace := v.Status == Going
		if err := s.Store.Withdraw(ctx, a, hadPlace); err != nil {
			return v, fmt.Errorf("withdraw: %w", err)
		}
		v.Status = NotGoing
		if hadPlace {
			if err := s.promote(ctx, v); err != nil {
				return v, err
			}
		}
	default:
		return v, Errorf(KindInvalid, "Choose whether you are going")
	}
	return v, nil
}

// promote fills free places from the waiting list, in order, emailing each person.
func (s *Service) promote(ctx context.Context, v RSVP) error {
	for {
		all, err := s.Store.Attendees(ctx, v.Round.Number, v.Group.ID)
		if err != nil {
			return fmt.Errorf("read waiting list: %w", err)
		}
		next, ok := NextOnWaitingList(all)
		if !ok {
			return nil
		}
		promoted, err := s.Store.Promote(ctx, next, s.Now())
		if err != nil {
			return fmt.Errorf("promote: %w", err)
		}
		if !promoted {
			return nil // full again, or they answered meanwhile
		}
		if err := s.sendPlaceFree(ctx, v, next); err != nil {
			return err
		}
	}
}

func (s *Service) sendPlaceFree(ctx context.Context, v RSVP, a Attendance) error {
	data, err := s.emailData(a.Email, a.Name, []Group{v.Group})
	if err != nil {
		return err
	}
	token, err := s.Links.Seal(links.Claims{Purpose: links.RSVP, Email: a.Email, Name: a.Name, Subject: fmt.Sprintf("%d/%s", v.Round.Number, v.Group.ID)}, 120*24*time.Hour)
	if err != nil {
		return err
	}
	data.Link = s.BaseURL + "/rsvp?answer=not-going&token=" + token
	data.When = v.Event.Start.In(London).Format("Monday 2 January 2006 at 3:04pm")
	data.Round = &v.Round
	mail, err := s.mail(a.Email, fmt.Sprintf("A place is free for you: the %s peer group, round %d", v.Group.Name, v.Round.Number), "place-free", data)
	if err != nil {
		return err
	}
	if err := s.Store.Enqueue(ctx, mail); err != nil {
		return fmt.Errorf("queue place free: %w", err)
	}
	return nil
}

// Attendees lists who answered for a group's event. Its facilitators and admins only.
func (s *Service) Attendees(ctx context.Context, c Caller, round int, group string) ([]Attendance, error) {
	if !c.CanFacilitate(group) {
		return nil, ErrForbidden
	}
	all, err := s.Store.Attendees(ctx, round, group)
	if err != nil {
		return nil, err
	}
	order := map[string]int{Going: 0, Waiting: 1, NotGoing: 2}
	sort.SliceStable(all, func(i, j int) bool {
		if order[all[i].Status] != order[all[j].Status] {
			return order[all[i].Status] < order[all[j].Status]
		}
		return all[i].Since.Before(all[j].Since)
	})
	return all, nil
}
