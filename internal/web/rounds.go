package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// roundPages serves the pages of rounds: rounds, events, publication, RSVP, calendars.
type roundPages struct {
	*Server
	svc roundService
}

// roundService is what these pages call of the domain.
type roundService interface {
	Answer(ctx context.Context, token, answer string) (pg.RSVP, error)
	Attendees(ctx context.Context, c pg.Caller, round int, group string) ([]pg.Attendance, error)
	CalendarLinkFor(v pg.RSVP) (string, error)
	Close(ctx context.Context, c pg.Caller, number int) error
	CreateRound(ctx context.Context, c pg.Caller, r pg.Round) error
	Group(ctx context.Context, id string) (pg.Group, error)
	Groups(ctx context.Context) ([]pg.Group, error)
	MemberEvent(ctx context.Context, token string) (pg.Round, pg.Group, pg.Event, error)
	Progress(ctx context.Context, number int) (pg.Publication, error)
	Publish(ctx context.Context, c pg.Caller, number int) error
	RSVPFor(ctx context.Context, token string) (pg.RSVP, error)
	Resume(ctx context.Context, c pg.Caller, number int) error
	Round(ctx context.Context, number int) (pg.Round, []pg.Event, error)
	Rounds(ctx context.Context) ([]pg.Round, error)
	SendCopy(ctx context.Context, c pg.Caller, m *pg.Message) error
	SetEvent(ctx context.Context, c pg.Caller, e pg.Event) error
	// Delivery figures (delivery_rounds.go).
	DeliveryOf(ctx context.Context, c pg.Caller, round int) (pg.RoundDelivery, error)
	Recipients(ctx context.Context, c pg.Caller, round int, token string) (pg.RecipientsPage, error)
	GroupDelivery(ctx context.Context, c pg.Caller, round int, group string) (pg.GroupFigures, error)
}

// roundNumber reads the {round} path value.
func roundNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("round"))
	if err != nil || n < 1 {
		return 0, pg.Errorf(pg.KindNotFound, "There is no such round.")
	}
	return n, nil
}

// roundsView is the admins' list of rounds.
type roundsView struct {
	base
	Rounds []pg.Round
}

// roundFormView is the admins' form that creates a round.
type roundFormView struct {
	base
	Form map[string][]string // the answers, kept on error
}

// roundView is a round with a row per group: the public page (round.html) and the
// admins' (admin-round.html: with the progress of its sending).
type roundView struct {
	base
	Round       pg.Round
	RoundRows   []roundRow
	Publication pg.Publication
	Stalled     bool            // a round's sending has not moved for longer than a lease
	Paused      bool            // the round's circuit breaker has paused its sending
	Refresh     bool            // the page refreshes itself every 5 seconds (the person asked; no JavaScript)
	KitProblems []pg.KitProblem // why publishing was refused: the core kit's accessibility errors
	// What became of the round's emails (admins): by group, the round's rates, and a
	// page of its recipients.
	Delivery   pg.RoundDelivery
	Counts     pg.DeliveryCounts
	Recipients pg.RecipientsPage
}

// GroupFigures are a group's announcement figures, for the admins' table.
func (p *roundView) GroupFigures(group string) pg.GroupFigures {
	return pg.GroupFigures{Progress: p.Publication.Groups[group], Counts: p.Delivery.For(pg.LedgerAnnouncement, group)}
}

// roundPreviewView shows the emails of a round for one group, as they will be sent.
type roundPreviewView struct {
	base
	Round        pg.Round
	Group        pg.Group
	Brief        *pg.Message
	Announcement *pg.Message
}

// eventFormView is a facilitator's form for their group's event in a round, with who
// is coming.
type eventFormView struct {
	base
	Round     pg.Round
	Group     pg.Group
	Event     pg.Event
	Form      map[string][]string // the answers: the event's, or those sent, on error
	Attendees []pg.Attendance
	Figures   *pg.GroupFigures // what became of the announcements (nil before publication)
}

func (s roundPages) adminRounds(w http.ResponseWriter, r *http.Request) {
	rounds, err := s.svc.Rounds(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-rounds", &roundsView{base: base{Title: "Rounds"}, Rounds: rounds})
}

func (s roundPages) roundNewForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "round-form", &roundFormView{base: base{Title: "Create a round"}})
}

func (s roundPages) roundCreate(w http.ResponseWriter, r *http.Request) {
	round, errs := decodeRound(values(r))
	if len(errs) == 0 {
		err := s.svc.CreateRound(r.Context(), caller(r), round)
		if pg.KindOf(err) == pg.KindConflict {
			errs = pg.FieldErrors{{Field: "number", Message: pg.MessageOf(err)}}
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "round-form", &roundFormView{base: base{Title: "Create a round", Errors: errs}, Form: values(r)})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/rounds/%d", round.Number), http.StatusSeeOther)
}

// roundRow is one group's line on the admin's round page.
type roundRow struct {
	Group    pg.Group
	Event    pg.Event
	HasEvent bool
}

func (s roundPages) roundAdmin(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.adminView(r, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Refresh {
		// Asked for by the person, and stopped by them: WCAG 2.2.1 lets a page refresh
		// itself when the person controls it.
		w.Header().Set("Refresh", "5")
	}
	s.render(w, r, http.StatusOK, "admin-round", p)
}

// adminView is the admin's page of round n.
func (s roundPages) adminView(r *http.Request, n int) (*roundView, error) {
	round, events, err := s.svc.Round(r.Context(), n)
	if err != nil {
		return nil, err
	}
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		return nil, err
	}
	p := &roundView{base: base{Title: fmt.Sprintf("Round %d: %s", round.Number, round.Title), Banner: map[string]string{"test": "A test copy has been sent to you"}[r.URL.Query().Get("done")]}, Round: round}
	for _, g := range groups {
		row := roundRow{Group: g}
		for _, e := range events {
			if e.GroupID == g.ID {
				row.Event, row.HasEvent = e, true
			}
		}
		p.RoundRows = append(p.RoundRows, row)
	}
	if round.State != pg.RoundDraft {
		pub, err := s.svc.Progress(r.Context(), n)
		if err != nil && pg.KindOf(err) != pg.KindNotFound {
			return nil, err
		}
		p.Publication = pub
		p.Paused = pub.Breaker.Paused && !pub.Done
		p.Stalled = !p.Paused && pub.Stalled(s.Server.Now(), pg.SendingLease)
		p.Refresh = !pub.Done && !p.Stalled && !p.Paused && r.URL.Query().Get("auto") == "on"
		if p.Delivery, err = s.svc.DeliveryOf(r.Context(), caller(r), n); err != nil {
			return nil, err
		}
		p.Counts = p.Delivery.Round()
		if p.Recipients, err = s.svc.Recipients(r.Context(), caller(r), n, r.URL.Query().Get("recipients")); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s roundPages) roundPublish(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err == nil {
		err = s.svc.Publish(r.Context(), caller(r), n)
	}
	if blocked, ok := errors.AsType[*pg.KitNotAccessible](err); ok {
		p, err := s.adminView(r, n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.KitProblems = blocked.Problems
		p.Title = "Error: " + p.Title // the page leads with an error summary
		s.render(w, r, http.StatusConflict, "admin-round", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/rounds/%d?auto=on", n), http.StatusSeeOther)
}

// roundResume starts a stalled round's sending again.
func (s roundPages) roundResume(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err == nil {
		err = s.svc.Resume(r.Context(), caller(r), n)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/rounds/%d?auto=on", n), http.StatusSeeOther)
}

func (s roundPages) roundClose(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err == nil {
		err = s.svc.Close(r.Context(), caller(r), n)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/rounds/%d", n), http.StatusSeeOther)
}

func (s roundPages) roundPreview(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := caller(r)
	brief, announcement, err := s.Announcer.Preview(r.Context(), n, r.PathValue("group"), c.Email, c.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "round-preview", &roundPreviewView{base: base{Title: fmt.Sprintf("Preview: round %d, %s", n, r.PathValue("group"))}, Brief: brief, Announcement: announcement, Round: pg.Round{Number: n}, Group: pg.Group{ID: r.PathValue("group")}})
}

// roundTest sends the admin a copy of the emails of one group, as they will be sent.
func (s roundPages) roundTest(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := caller(r)
	brief, announcement, err := s.Announcer.Preview(r.Context(), n, r.PathValue("group"), c.Email, c.Name)
	if err == nil {
		err = s.svc.SendCopy(r.Context(), c, brief)
	}
	if err == nil && announcement != nil {
		err = s.svc.SendCopy(r.Context(), c, announcement)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/rounds/%d?done=test", n), http.StatusSeeOther)
}

// roundPage is the public page of a round: its theme and every group's event.
func (s roundPages) roundPage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	round, events, err := s.svc.Round(r.Context(), n)
	if err == nil && round.State == pg.RoundDraft {
		err = pg.Errorf(pg.KindNotFound, "There is no such round.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &roundView{base: base{Title: fmt.Sprintf("Round %d: %s", round.Number, round.Title)}, Round: round}
	for _, g := range groups {
		for _, e := range events {
			if e.GroupID == g.ID {
				p.RoundRows = append(p.RoundRows, roundRow{Group: g, Event: e, HasEvent: true})
			}
		}
	}
	s.render(w, r, http.StatusOK, "round", p)
}

// eventForm is a facilitator's form for their group's event in a round, with who is coming.
func (s roundPages) eventForm(w http.ResponseWriter, r *http.Request) {
	s.renderEventForm(w, r, http.StatusOK, &eventFormView{base: base{Banner: map[string]string{"saved": "The event has been saved"}[r.URL.Query().Get("done")]}})
}

func (s roundPages) renderEventForm(w http.ResponseWriter, r *http.Request, status int, p *eventFormView) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	round, events, err := s.svc.Round(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.svc.Group(r.Context(), r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	attendees, err := s.svc.Attendees(r.Context(), caller(r), n, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Round, p.Group, p.Attendees = fmt.Sprintf("Round %d: your event", n), round, g, attendees
	if round.State != pg.RoundDraft {
		figures, err := s.svc.GroupDelivery(r.Context(), caller(r), n, g.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Figures = &figures
	}
	if p.Form == nil {
		p.Form = map[string][]string{}
		for _, e := range events {
			if e.GroupID == g.ID {
				p.Form = eventValues(e)
				p.Event = e
			}
		}
	}
	s.render(w, r, status, "event-form", p)
}

func eventValues(e pg.Event) map[string][]string {
	start := e.Start.In(pg.London)
	return map[string][]string{
		"date-day": {strconv.Itoa(start.Day())}, "date-month": {strconv.Itoa(int(start.Month()))}, "date-year": {strconv.Itoa(start.Year())},
		"start": {start.Format("15:04")}, "end": {e.End.In(pg.London).Format("15:04")},
		"venue": {e.Venue}, "address": {e.Address}, "online": {e.OnlineURL}, "capacity": {strconv.Itoa(e.Capacity)}, "note": {e.Note},
	}
}

func (s roundPages) eventSave(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	round, _, err := s.svc.Round(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, errs := decodeEvent(values(r), round, r.PathValue("group"))
	if len(errs) > 0 {
		s.renderEventForm(w, r, http.StatusBadRequest, &eventFormView{base: base{Errors: errs}, Form: values(r)})
		return
	}
	if err := s.svc.SetEvent(r.Context(), caller(r), e); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/facilitate/%s/rounds/%d?done=saved", e.GroupID, n), http.StatusSeeOther)
}

// attendeesCSV downloads who answered for a group's event.
func (s roundPages) attendeesCSV(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.svc.Group(r.Context(), r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.svc.Attendees(r.Context(), caller(r), n, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := [][]string{{"Email address", "Name", "Answer", "Since"}}
	for _, a := range all {
		rows = append(rows, []string{SafeCell(a.Email), SafeCell(a.Name), a.Status, dateOf(a.Since)})
	}
	writeCSV(w, fmt.Sprintf("round-%d-%s-attendees.csv", n, g.ID), rows)
}
