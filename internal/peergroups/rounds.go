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
	// KitsChecked says whether the groups' versions of the kit were checked when the
	// round was published (not by earlier versions of the service); KitVariants are
	// the groups whose version passed: their members are linked to it.
	KitsChecked bool
	KitVariants []string
	// Breaker is the round's circuit breaker: paused, why, and the figures it was
	// last armed at.
	Breaker BreakerState
	// Groups are the announcements' progress by group (settled since the progress
	// items name their group; older ones count only in the totals).
	Groups map[string]Progress
}

// Progress is how many of a group's announcements were settled each way.
type Progress struct{ Sent, Failed, Suppressed int }

// SendingLease is how long a run of the announcements may hold a recipient it has
// claimed: a Lambda function's longest life. After it, a recipient left "sending" by a
// run that died is claimed again, and a round that has not moved for longer is stalled.
const SendingLease = 15 * time.Minute

// Stalled reports whether sending has not moved for longer than lease, the longest a
// live run can hold a recipient: no run is working on it, and the trigger's retries
// may have run out. An admin can resume it.
func (p Publication) Stalled(now time.Time, lease time.Duration) bool {
	if p.Done || p.Breaker.Paused { // paused on purpose, and the admins were emailed: not stalled
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

// RoundReader reads a round and its events.
type RoundReader interface {
	Round(ctx context.Context, number int) (Round, error)
	Events(ctx context.Context, round int) ([]Event, error)
}

// RoundStore is what Rounds keeps: rounds, their events, and their publication.
type RoundStore interface {
	CreateRound(ctx context.Context, r Round, a AuditEntry) error
	Rounds(ctx context.Context) ([]Round, error)
	RoundReader
	PutEvent(ctx context.Context, e Event, a AuditEntry) error
	// PublishRound marks a draft round published and writes its publication, the item
	// whose arrival on the table's stream starts the announcements; with kits (at most
	// one), what the check of the groups' versions of the kit decided, and its notices.
	PublishRound(ctx context.Context, r Round, a AuditEntry, kits ...PublishedKits) error
	Publication(ctx context.Context, round int) (Publication, error)
	DeliveryStore
	// ResumePublication records that an admin resumed a stalled round's sending, and
	// starts the announcements again (on the same ledger).
	ResumePublication(ctx context.Context, round int, at time.Time, a AuditEntry) error
	CloseRound(ctx context.Context, r Round, a AuditEntry) error
	Outbox
}

// PlaceFiller gives an event's free places to the people waiting (RSVPs does).
type PlaceFiller interface {
	FillPlaces(ctx context.Context, r Round, e Event) error
}

// Rounds is the network's rounds: an admin creates and publishes each (the announce
// function then sends its announcements) and closes it; each group's facilitators set
// its event. (RSVPs is the answers to the events; the reminders are sent by the
// reminders function.)
type Rounds struct {
	Env
	Store   RoundStore
	Network GroupReader
	Places  PlaceFiller
	Kits    KitGate // nil: publishing does not wait for the core kit
	// Variants checks the groups' versions of the kit as the round is published
	// (nil: they are not checked).
	Variants VariantGate
}

// VariantGate checks the groups' versions of a round's kit as it is published
// (KitPublishing does).
type VariantGate interface {
	PublishedKits(ctx context.Context, r Round) (PublishedKits, error)
}

// KitGate is what publishing asks of the kits: the accessibility errors of the
// round's core kit, which stop it being published.
type KitGate interface {
	CoreKitProblems(ctx context.Context, round int) ([]KitProblem, error)
}

// Groups returns every group, for the rounds' pages.
func (s *Rounds) Groups(ctx context.Context) ([]Group, error) { return s.Network.Groups(ctx) }

// Group returns one group, for the rounds' pages.
func (s *Rounds) Group(ctx context.Context, id string) (Group, error) {
	return s.Network.Group(ctx, id)
}

// ValidateRound checks a new round, in the order of its form's fields.
func ValidateRound(r Round) FieldErrors {
	var errs FieldErrors
	switch {
	case r.Number == 0:
		errs.add("number", "Enter the round’s number")
	case r.Number < 1 || r.Number > 9999:
		errs.add("number", "Round number must be a whole number from 1 to 9999")
	}
	errs.line("title", r.Title, "Title", 120, "Enter the round’s title (its theme)")
	errs.paragraph("summary", r.Summary, "Summary", 2000, "Enter a summary of the round")
	if r.PeriodStart.IsZero() {
		errs.add("start-day", "Enter the first day groups can hold their event")
	}
	switch {
	case r.PeriodEnd.IsZero():
		errs.add("end-day", "Enter the last day groups can hold their event")
	case !r.PeriodStart.IsZero() && r.PeriodEnd.Before(r.PeriodStart):
		errs.add("end-day", "The end of the period must be the same as or after its start")
	}
	return errs
}

// ValidateEvent checks a group's event for round r, in the order of its form's fields:
// on a day of the round's period, ending after it starts, somewhere (a venue, an
// online link starting https://, or both), for 1 to 10000 people.
func ValidateEvent(e Event, r Round) FieldErrors {
	var errs FieldErrors
	switch day := londonDate(e.Start); {
	case e.Start.IsZero():
		errs.add("date-day", "Enter the date of the event")
	case day.Before(londonDate(r.PeriodStart)) || day.After(londonDate(r.PeriodEnd)):
		errs.add("date-day", fmt.Sprintf("The date must be between %s and %s", r.PeriodStart.Format("2 January 2006"), r.PeriodEnd.Format("2 January 2006")))
	}
	if !e.Start.IsZero() && !e.End.After(e.Start) {
		errs.add("end", "The end time must be after the start time")
	}
	errs.line("venue", e.Venue, "Venue", 200, "")
	if e.Venue == "" && e.OnlineURL == "" {
		errs.add("venue", "Enter a venue, an online link, or both")
	}
	errs.paragraph("address", e.Address, "Address", 500, "")
	if e.OnlineURL != "" {
		u, err := url.Parse(e.OnlineURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(e.OnlineURL, " \r\n\"<>") || len(e.OnlineURL) > 500 {
			errs.add("online", "The online link must be a web address starting with https://")
		}
	}
	if e.Capacity < 1 || e.Capacity > 10000 {
		errs.add("capacity", "Capacity must be a whole number from 1 to 10000")
	}
	errs.paragraph("note", e.Note, "Note", 1000, "")
	return errs
}

// londonDate returns the day t falls on in London, at midnight.
func londonDate(t time.Time) time.Time {
	y, m, d := t.In(London).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, London)
}

// CreateRound adds a draft round. Admins only.
func (s *Rounds) CreateRound(ctx context.Context, c Caller, r Round) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := ValidateRound(r).Err(); err != nil {
		return err
	}
	if err := s.Store.CreateRound(ctx, r, s.audit(c, "create round", strconv.Itoa(r.Number), nil, r)); err != nil {
		return fmt.Errorf("create round: %w", err)
	}
	return nil
}

// Rounds lists the rounds, newest first.
func (s *Rounds) Rounds(ctx context.Context) ([]Round, error) { return s.Store.Rounds(ctx) }

// Round returns a round with its events.
func (s *Rounds) Round(ctx context.Context, number int) (Round, []Event, error) {
	return loadRound(ctx, s.Store, number)
}

// loadRound reads a round with its events, saying so in words when there is none.
func loadRound(ctx context.Context, st RoundReader, number int) (Round, []Event, error) {
	r, err := st.Round(ctx, number)
	if KindOf(err) == KindNotFound {
		return r, nil, Errorf(KindNotFound, "There is no round %d.", number)
	}
	if err != nil {
		return r, nil, err
	}
	events, err := st.Events(ctx, number)
	return r, events, err
}

// SetEvent sets a group's event for a round: its facilitators and admins, while the
// round is a draft or published (members already told get no new email).
func (s *Rounds) SetEvent(ctx context.Context, c Caller, e Event) error {
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
	if err := ValidateEvent(e, r).Err(); err != nil {
		return err
	}
	if err := s.Store.PutEvent(ctx, e, s.audit(c, "set event", fmt.Sprintf("%d %s", e.Round, e.GroupID), nil, e)); err != nil {
		return fmt.Errorf("set event: %w", err)
	}
	// More places than before go to the people waiting.
	return s.Places.FillPlaces(ctx, r, e)
}

// Publish publishes a draft round: the announcements are sent by the announce
// function, started by the publication's arrival on the table's stream. Admins only.
func (s *Rounds) Publish(ctx context.Context, c Caller, number int) error {
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
	if s.Kits != nil {
		problems, err := s.Kits.CoreKitProblems(ctx, number)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return &KitNotAccessible{Round: number, Problems: problems}
		}
	}
	var kits []PublishedKits
	if s.Variants != nil {
		k, err := s.Variants.PublishedKits(ctx, r)
		if err != nil {
			return err
		}
		kits = append(kits, k)
	}
	before := r
	r.State, r.PublishedAt = RoundPublished, s.Now()
	if err := s.Store.PublishRound(ctx, r, s.audit(c, "publish round", strconv.Itoa(number), before, r), kits...); err != nil {
		return fmt.Errorf("publish round %d: %w", number, err)
	}
	return nil
}

// Resume starts a stalled round's announcements again: those not yet sent are sent,
// and nobody twice (the same ledger). Admins only, and only when the round has stalled.
func (s *Rounds) Resume(ctx context.Context, c Caller, number int) error {
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
	case pub.Breaker.Paused:
		return s.resumePaused(ctx, c, number, pub)
	case !pub.Stalled(s.Now(), SendingLease):
		return Errorf(KindConflict, "Round %d is still sending. Sending can be resumed when nothing has moved for %d minutes.", number, int(SendingLease.Minutes()))
	}
	if err := s.Store.ResumePublication(ctx, number, s.Now(), s.audit(c, "resume sending", strconv.Itoa(number), pub, nil)); err != nil {
		return fmt.Errorf("resume round %d: %w", number, err)
	}
	return nil
}

// Close closes a published round: its events can no longer be changed. Admins only.
func (s *Rounds) Close(ctx context.Context, c Caller, number int) error {
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
func (s *Rounds) Progress(ctx context.Context, number int) (Publication, error) {
	return s.Store.Publication(ctx, number)
}

// SendCopy emails an admin a test copy of a message. Admins only.
func (s *Rounds) SendCopy(ctx context.Context, c Caller, m *Message) error {
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
