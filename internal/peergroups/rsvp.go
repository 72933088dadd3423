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
	Since  time.Time // when they took this status
	// Seq is the number of the answer that set this status, counted per event in the
	// order the answers were committed: the waiting list's order. 0 for answers
	// recorded before answers were numbered.
	Seq int64
}

// Places is an event's places as one answer read them.
type Places struct {
	Capacity int
	Going    int   // places taken
	Waiting  int   // people on the waiting list
	Answers  int64 // answers committed so far: the next answer is number Answers+1
}

// AnswerState is what one change of answer is decided from, all read after the last
// answer committed before it.
type AnswerState struct {
	Places  Places
	Current Attendance   // the person's answer now; Status "" when they have none
	Waiting []Attendance // the waiting list, read when Places.Waiting > 0
}

// AnswerChange is what one answer changes, all or nothing.
type AnswerChange struct {
	Changed  bool        // false when the answer is the one already given: nothing is written
	Previous Attendance  // the answer it replaces (Status "" for none): the write's condition
	Answer   Attendance  // the person's answer after it
	Promoted *Attendance // who gets a free place from the waiting list, as they were (waiting)
	Going    int         // change to the places taken
	Waiting  int         // change to the waiting list's length
	Position int         // the person's place on the waiting list, from 1, when they join it
	At       time.Time   // when it was decided
}

// RSVPStore is what RSVPs keeps: the answers and the events' places.
type RSVPStore interface {
	RoundReader
	Attendance(ctx context.Context, round int, group, email string) (Attendance, error)
	Attendees(ctx context.Context, round int, group string) ([]Attendance, error)
	// ChangeAnswer reads the event's places and the person's answer (none when email is
	// "": a change of places only), and the waiting list when anyone is on it, asks
	// decide what changes, and commits that in one transaction conditioned on everything
	// it read. When another answer was committed in between it reads again and asks
	// again, a bounded number of times, so that the change returned was decided from the
	// state it was committed on.
	ChangeAnswer(ctx context.Context, round int, group, email string, decide func(AnswerState) AnswerChange) (AnswerChange, error)
	Outbox
}

// RSVPs is the answers to "are you coming?" from the links in the announcements:
// places, the waiting list, and who gets a place that comes free.
type RSVPs struct {
	Env
	Store   RSVPStore
	Network GroupReader
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
	sort.SliceStable(waiting, func(i, j int) bool { return answeredBefore(waiting[i], waiting[j]) })
	return waiting[0], true
}

// answeredBefore orders answers by the order they were committed (by time for answers
// recorded before they were numbered, which come first).
func answeredBefore(a, b Attendance) bool {
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Since.Before(b.Since)
}

// DecideAnswer works out what one answer changes. "Going" takes a free place when
// nobody is waiting for one, and otherwise joins the end of the waiting list; "not
// going" gives up a place or a place on the waiting list. A place left free while
// anyone waits goes, in the same change, to whoever has waited longest. Giving the
// answer already given changes nothing.
func DecideAnswer(st AnswerState, who Attendance, answer string, at time.Time) AnswerChange {
	c := AnswerChange{Previous: st.Current, Answer: st.Current, At: at}
	from := st.Current.Status
	if from == answer || (answer == Going && from == Waiting) {
		return c
	}
	p := st.Places
	switch from {
	case Going:
		p.Going--
		c.Going--
	case Waiting:
		p.Waiting--
		c.Waiting--
	}
	next := who
	next.Status, next.Since, next.Seq = answer, at, p.Answers+1
	if answer == Going && (p.Going >= p.Capacity || p.Waiting > 0) {
		next.Status = Waiting
		p.Waiting++
		c.Waiting++
		c.Position = p.Waiting
	} else if answer == Going {
		p.Going++
		c.Going++
	}
	if head, ok := placeFor(p, st.Waiting, who.Email); ok {
		c.Promoted = &head
		c.Going++
		c.Waiting--
		if c.Position > 0 {
			c.Position--
		}
	}
	c.Changed, c.Answer = true, next
	return c
}

// DecideFill gives a free place to whoever has waited longest, as when an event is
// given more places; no change when there is no free place or nobody waits.
func DecideFill(st AnswerState, at time.Time) AnswerChange {
	head, ok := placeFor(st.Places, st.Waiting, "")
	if !ok {
		return AnswerChange{At: at}
	}
	return AnswerChange{Changed: true, Promoted: &head, Going: 1, Waiting: -1, At: at}
}

// placeFor returns who on the waiting list (other than except) gets a free place, if a
// place is free.
func placeFor(p Places, waiting []Attendance, except string) (Attendance, bool) {
	if p.Going >= p.Capacity || p.Waiting <= 0 {
		return Attendance{}, false
	}
	var others []Attendance
	for _, a := range waiting {
		if a.Email != except {
			others = append(others, a)
		}
	}
	return NextOnWaitingList(others)
}

// RSVP is what an "I'm going" link is about.
type RSVP struct {
	Round  Round
	Group  Group
	Event  Event
	Email  string
	Name   string
	Status string // the current answer, "" when none
	// Position is the person's place on the waiting list, from 1, when they are on it.
	Position int
}

// openRSVP reads an RSVP link and what it is about.
func (s *RSVPs) openRSVP(ctx context.Context, token string) (RSVP, error) {
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
	r, events, err := loadRound(ctx, s.Store, number)
	if err != nil {
		return RSVP{}, err
	}
	g, err := s.Network.Group(ctx, groupID)
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
func (s *RSVPs) RSVPFor(ctx context.Context, token string) (RSVP, error) {
	v, err := s.openRSVP(ctx, token)
	if err != nil || v.Status != Waiting {
		return v, err
	}
	all, err := s.Store.Attendees(ctx, v.Round.Number, v.Group.ID)
	if err != nil {
		return v, fmt.Errorf("read waiting list: %w", err)
	}
	v.Position = waitingPosition(all, v.Email)
	return v, nil
}

// waitingPosition is a person's place on the waiting list, from 1; 0 if not on it.
func waitingPosition(all []Attendance, email string) int {
	var me Attendance
	for _, a := range all {
		if a.Email == email && a.Status == Waiting {
			me = a
		}
	}
	if me.Email == "" {
		return 0
	}
	n := 1
	for _, a := range all {
		if a.Status == Waiting && a.Email != email && answeredBefore(a, me) {
			n++
		}
	}
	return n
}

// Answer records "going" or "not going" from an RSVP link. Going takes a place while
// there is one, then joins the waiting list; giving up a place gives it to whoever
// has waited longest, who is emailed. Answering again changes the answer. The answer
// and the places change together, conditioned on the answer the person had, so that
// the same link posted many times at once takes one place.
func (s *RSVPs) Answer(ctx context.Context, token, answer string) (RSVP, error) {
	v, err := s.openRSVP(ctx, token)
	if err != nil {
		return v, err
	}
	if v.Event.Start.Before(s.Now()) {
		return v, Errorf(KindGone, "This event has already happened.")
	}
	if answer != Going && answer != NotGoing {
		return v, Errorf(KindInvalid, "Choose whether you are going")
	}
	who := Attendance{Round: v.Round.Number, Group: v.Group.ID, Email: v.Email, Name: v.Name}
	at := s.Now()
	change, err := s.Store.ChangeAnswer(ctx, v.Round.Number, v.Group.ID, v.Email, func(st AnswerState) AnswerChange {
		return DecideAnswer(st, who, answer, at)
	})
	if err != nil {
		return v, fmt.Errorf("record answer: %w", err)
	}
	v.Status, v.Position = change.Answer.Status, change.Position
	if !change.Changed && v.Status == Waiting {
		return s.RSVPFor(ctx, token)
	}
	if change.Promoted != nil {
		// The place is theirs once committed: only the answer that committed it emails them.
		if err := s.sendPlaceFree(ctx, v, *change.Promoted); err != nil {
			return v, err
		}
	}
	return v, nil
}

// FillPlaces gives the free places of a group's event to the people waiting, longest
// first, emailing each, one committed change at a time.
func (s *RSVPs) FillPlaces(ctx context.Context, r Round, e Event) error {
	g, err := s.Network.Group(ctx, e.GroupID)
	if err != nil {
		return err
	}
	at := s.Now()
	for range e.Capacity { // each change fills one place
		change, err := s.Store.ChangeAnswer(ctx, r.Number, e.GroupID, "", func(st AnswerState) AnswerChange { return DecideFill(st, at) })
		if err != nil {
			return fmt.Errorf("fill places: %w", err)
		}
		if !change.Changed {
			return nil
		}
		if err := s.sendPlaceFree(ctx, RSVP{Round: r, Group: g, Event: e}, *change.Promoted); err != nil {
			return err
		}
	}
	return nil
}

func (s *RSVPs) sendPlaceFree(ctx context.Context, v RSVP, a Attendance) error {
	data, err := s.emailData(a.Email, a.Name, []Group{v.Group})
	if err != nil {
		return err
	}
	token, err := s.Links.Seal(links.Claims{Purpose: links.RSVP, Email: a.Email, Name: a.Name, Subject: fmt.Sprintf("%d/%s", v.Round.Number, v.Group.ID)}, 120*24*time.Hour)
	if err != nil {
		return err
	}
	data.Link = s.BaseURL + "/rsvp?answer=not-going&token=" + token
	data.When = v.Event.When()
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
func (s *RSVPs) Attendees(ctx context.Context, c Caller, round int, group string) ([]Attendance, error) {
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
		return answeredBefore(all[i], all[j])
	})
	return all, nil
}
