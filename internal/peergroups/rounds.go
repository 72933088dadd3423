package peergroups

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Round states.
const (
	RoundDraft     = "draft"
	RoundPublished = "published"
	RoundClosed    = "closed"
)

// London is the time zone events are set in.
var London = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("Europe/London: " + err.Error()) // time/tzdata is linked in: cannot happen
	}
	return loc
}()

// Round is one round of the network: a theme, and a period in which each group holds
// its event.
type Round struct {
	Number      int
	Title       string
	Summary     string
	PeriodStart time.Time // a date, midnight in London
	PeriodEnd   time.Time // a date, midnight in London, inclusive
	State       string
	PublishedAt time.Time
}

// Event is a group's event for a round.
type Event struct {
	Round     int
	GroupID   string
	Start     time.Time // in London
	End       time.Time
	Venue     string
	Address   string
	OnlineURL string
	Capacity  int
	Note      string
	Going     int // how many said they are going
	Waiting   int // how many are on the waiting list
}

// Publication is the state of a round's announcements.
type Publication struct {
	Round       int
	Total       int // recipients planned
	Sent        int
	Failed      int
	Suppressed  int
	Done        bool
	PublishedAt time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	MovedAt     time.Time // when the last recipient was settled
	ResumedAt   time.Time // when an admin last resumed sending
}

// SendingLease is how long a run of the announcements may hold a recipient it has
// claimed: a Lambda function's longest life. After it, a recipient left "sending" by a
// run that died is claimed again, and a round that has not moved for longer is stalled.
const SendingLease = 15 * time.Minute

// Stalled reports whether sending has not moved for longer than lease, the longest a
// live run can hold a recipient: no run is working on it, and the trigger's retries
// may have run out. An admin can resume it.
func (p Publication) Stalled(now time.Time, lease time.Duration) bool {
	if p.Done {
		return false
	}
	var last time.Time
	for _, t := range []time.Time{p.PublishedAt, p.StartedAt, p.MovedAt, p.ResumedAt} {
		if t.After(last) {
			last = t
		}
	}
	return !last.IsZero() && now.Sub(last) > lease
}

// Left returns how many recipients are still to be settled.
func (p Publication) Left() int { return max(0, p.Total-p.Settled()) }

// Settled returns how many recipients have reached a final state.
func (p Publication) Settled() int { return p.Sent + p.Failed + p.Suppressed }

// Percent returns progress from 0 to 100.
func (p Publication) Percent() int {
	if p.Total == 0 {
		if p.Done {
			return 100
		}
		return 0
	}
	return p.Settled() * 100 / p.Total
}

// RoundStore keeps rounds and events.
type RoundStore interface {
	CreateRound(ctx context.Context, r Round, a AuditEntry) error
	Rounds(ctx context.Context) ([]Round, error)
	Round(ctx context.Context, number int) (Round, error)
	PutEvent(ctx context.Context, e Event, a AuditEntry) error
	Events(ctx context.Context, round int) ([]Event, error)
	// PublishRound marks a draft round published and writes its publication, the item
	// whose arrival on the table's stream starts the announcements.
	PublishRound(ctx context.Context, r Round, a AuditEntry) error
	Publication(ctx context.Context, round int) (Publication, error)
	// ResumePublication records that an admin resumed a stalled round's sending, and
	// starts the announcements again (on the same ledger).
	ResumePublication(ctx context.Context, round int, at time.Time, a AuditEntry) error
	CloseRound(ctx context.Context, r Round, a AuditEntry) error
}

// dateField reads a GOV.UK date input (name-day, name-month, name-year).
func dateField(v url.Values, name string) (time.Time, string, bool) {
	d, _ := text(v, name+"-day")
	m, _ := text(v, name+"-month")
	y, _ := text(v, name+"-year")
	if d == "" && m == "" && y == "" {
		return time.Time{}, "", false
	}
	di, e1 := strconv.Atoi(d)
	mi, e2 := strconv.Atoi(m)
	yi, e3 := strconv.Atoi(y)
	if e1 != nil || e2 != nil || e3 != nil || mi < 1 || mi > 12 || di < 1 || di > 31 || yi < 2000 || yi > 2100 {
		return time.Time{}, d + "/" + m + "/" + y, false
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, London)
	if t.Day() != di {
		return time.Time{}, d + "/" + m + "/" + y, false
	}
	return t, "", true
}

// DecodeRound reads the new round form.
func DecodeRound(v url.Values) (Round, FieldErrors) {
	var r Round
	var errs FieldErrors
	n, _ := text(v, "number")
	num, err := strconv.Atoi(n)
	switch {
	case n == "":
		errs.add("number", "Enter the round’s number")
	case err != nil || num < 1 || num > 9999:
		errs.add("number", "Round number must be a whole number from 1 to 9999")
	default:
		r.Number = num
	}
	r.Title = errs.line(v, "title", "Title", 120, "Enter the round’s title (its theme)")
	r.Summary = errs.paragraph(v, "summary", "Summary", 2000, "Enter a summary of the round")
	start, bad, ok := dateField(v, "start")
	switch {
	case ok:
		r.PeriodStart = start
	case bad != "":
		errs.add("start-day", "The start of the period must be a real date")
	default:
		errs.add("start-day", "Enter the first day groups can hold their event")
	}
	end, bad, ok := dateField(v, "end")
	switch {
	case ok && !r.PeriodStart.IsZero() && end.Before(r.PeriodStart):
		errs.add("end-day", "The end of the period must be the same as or after its start")
	case ok:
		r.PeriodEnd = end
	case bad != "":
		errs.add("end-day", "The end of the period must be a real date")
	default:
		errs.add("end-day", "Enter the last day groups can hold their event")
	}
	r.State = RoundDraft
	return r, errs
}

// DecodeEvent reads a group's event form for a round.
func DecodeEvent(v url.Values, r Round, group string) (Event, FieldErrors) {
	e := Event{Round: r.Number, GroupID: group}
	var errs FieldErrors
	day, bad, ok := dateField(v, "date")
	switch {
	case !ok && bad != "":
		errs.add("date-day", "The date must be a real date")
	case !ok:
		errs.add("date-day", "Enter the date of the event")
	case day.Before(r.PeriodStart) || day.After(r.PeriodEnd):
		errs.add("date-day", fmt.Sprintf("The date must be between %s and %s", r.PeriodStart.Format("2 January 2006"), r.PeriodEnd.Format("2 January 2006")))
	}
	clock := func(name, label string) (int, int, bool) {
		s, _ := text(v, name)
		t, err := time.Parse("15:04", s)
		if s == "" {
			errs.add(name, "Enter the "+label+" time, like 14:30")
			return 0, 0, false
		}
		if err != nil {
			errs.add(name, "The "+label+" time must be a 24-hour time, like 14:30")
			return 0, 0, false
		}
		return t.Hour(), t.Minute(), true
	}
	sh, sm, sok := clock("start", "start")
	eh, em, eok := clock("end", "end")
	if ok && sok && eok {
		e.Start = time.Date(day.Year(), day.Month(), day.Day(), sh, sm, 0, 0, London)
		e.End = time.Date(day.Year(), day.Month(), day.Day(), eh, em, 0, 0, London)
		if !e.End.After(e.Start) {
			errs.add("end", "The end time must be after the start time")
		}
	}
	e.Venue = errs.line(v, "venue", "Venue", 200, "")
	e.Address = errs.paragraph(v, "address", "Address", 500, "")
	e.OnlineURL, _ = text(v, "online")
	if e.OnlineURL != "" {
		u, err := url.Parse(e.OnlineURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(e.OnlineURL, " \r\n\"<>") || len(e.OnlineURL) > 500 {
			errs.add("online", "The online link must be a web address starting with https://")
		}
	}
	if e.Venue == "" && e.OnlineURL == "" && errs.For("online") == "" {
		errs.add("venue", "Enter a venue, an online link, or both")
	}
	c, _ := text(v, "capacity")
	n, err := strconv.Atoi(c)
	switch {
	case c == "":
		errs.add("capacity", "Enter how many people can come")
	case err != nil || n < 1 || n > 10000:
		errs.add("capacity", "Capacity must be a whole number from 1 to 10000")
	default:
		e.Capacity = n
	}
	e.Note = errs.paragraph(v, "note", "Note", 1000, "")
	return e, errs
}

// CreateRound adds a draft round. Admins only.
func (s *Service) CreateRound(ctx context.Context, c Caller, r Round) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := s.Store.CreateRound(ctx, r, s.audit(c, "create round", strconv.Itoa(r.Number), nil, r)); err != nil {
		return fmt.Errorf("create round: %w", err)
	}
	return nil
}

// Rounds lists the rounds, newest first.
func (s *Service) Rounds(ctx context.Context) ([]Round, error) { return s.Store.Rounds(ctx) }

// Round returns a round with its events.
func (s *Service) Round(ctx context.Context, number int) (Round, []Event, error) {
	r, err := s.Store.Round(ctx, number)
	if KindOf(err) == KindNotFound {
		return r, nil, Errorf(KindNotFound, "There is no round %d.", number)
	}
	if err != nil {
		return r, nil, err
	}
	events, err := s.Store.Events(ctx, number)
	return r, events, err
}

// SetEvent sets a group's event for a round: its facilitators and admins, while the
// round is a draft or published (members already told get no new email).
func (s *Service) SetEvent(ctx context.Context, c Caller, e Event) error {
	if !c.CanFacilitate(e.GroupID) {
		return ErrForbidden
	}
	r, err := s.Store.Round(ctx, e.Round)
	if err != nil {
		return err
	}
	if r.State == RoundClosed {
		return Errorf(KindConflict, "Round %d is closed.", r.Number)
	}
	if err := s.Store.PutEvent(ctx, e, s.audit(c, "set event", fmt.Sprintf("%d %s", e.Round, e.GroupID), nil, e)); err != nil {
		return fmt.Errorf("set event: %w", err)
	}
	// More places than before go to the people waiting.
	return s.fillPlaces(ctx, r, e)
}

// Publish publishes a draft round: the announcements are sent by the announce
// function, started by the publication's arrival on the table's stream. Admins only.
func (s *Service) Publish(ctx context.Context, c Caller, number int) error {
	if !c.Admin {
		return ErrForbidden
	}
	r, err := s.Store.Round(ctx, number)
	if err != nil {
		return err
	}
	if r.State != RoundDraft {
		return Errorf(KindConflict, "Round %d has already been published.", number)
	}
	before := r
	r.State, r.PublishedAt = RoundPublished, s.Now()
	if err := s.Store.PublishRound(ctx, r, s.audit(c, "publish round", strconv.Itoa(number), before, r)); err != nil {
		return fmt.Errorf("publish round %d: %w", number, err)
	}
	return nil
}

// Resume starts a stalled round's announcements again: those not yet sent are sent,
// and nobody twice (the same ledger). Admins only, and only when the round has stalled.
func (s *Service) Resume(ctx context.Context, c Caller, number int) error {
	if !c.Admin {
		return ErrForbidden
	}
	pub, err := s.Store.Publication(ctx, number)
	if err != nil {
		return err
	}
	switch {
	case pub.Done:
		return Errorf(KindConflict, "Round %d has finished sending.", number)
	case !pub.Stalled(s.Now(), SendingLease):
		return Errorf(KindConflict, "Round %d is still sending. Sending can be resumed when nothing has moved for %d minutes.", number, int(SendingLease.Minutes()))
	}
	if err := s.Store.ResumePublication(ctx, number, s.Now(), s.audit(c, "resume sending", strconv.Itoa(number), pub, nil)); err != nil {
		return fmt.Errorf("resume round %d: %w", number, err)
	}
	return nil
}

// Close closes a published round: its events can no longer be changed. Admins only.
func (s *Service) Close(ctx context.Context, c Caller, number int) error {
	if !c.Admin {
		return ErrForbidden
	}
	r, err := s.Store.Round(ctx, number)
	if err != nil {
		return err
	}
	if r.State != RoundPublished {
		return Errorf(KindConflict, "Only a published round can be closed.")
	}
	before := r
	r.State = RoundClosed
	if err := s.Store.CloseRound(ctx, r, s.audit(c, "close round", strconv.Itoa(number), before, r)); err != nil {
		return fmt.Errorf("close round %d: %w", number, err)
	}
	return nil
}

// Progress returns how a round's announcements are going.
func (s *Service) Progress(ctx context.Context, number int) (Publication, error) {
	return s.Store.Publication(ctx, number)
}

// SendCopy emails an admin a test copy of a message. Admins only.
func (s *Service) SendCopy(ctx context.Context, c Caller, m *Message) error {
	if !c.Admin {
		return ErrForbidden
	}
	copy := *m
	copy.To = c.Email
	copy.Subject = "[Test] " + m.Subject
	if err := s.Store.Enqueue(ctx, OutboxItem{ID: newOutboxID(), At: s.Now(), Message: &copy}); err != nil {
		return fmt.Errorf("queue test copy: %w", err)
	}
	return nil
}
