package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/feedback"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// simulatedSES is SES with its mailbox simulator's events: it keeps what SES took,
// and delivers the events SES would publish for them (a bounce for bounce@…) to the
// feedback function when deliver is called, as they arrive between two batches.
type simulatedSES struct {
	inner   pg.BulkMailer
	handler *feedback.Handler
	mu      sync.Mutex
	pending []devstack.SentEmail
}

func (m *simulatedSES) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	results, err := m.inner.SendBulk(ctx, t, to)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range results {
		if r.MessageID != "" {
			m.pending = append(m.pending, devstack.SentEmail{MessageID: r.MessageID, To: to[i].To, Tags: to[i].Tags, At: time.Now()})
		}
	}
	return results, err
}

func (m *simulatedSES) MaxSendRate(ctx context.Context) (float64, error) {
	return m.inner.MaxSendRate(ctx)
}

// deliver hands the feedback function the events of everything SES took so far.
func (m *simulatedSES) deliver(ctx context.Context) error {
	m.mu.Lock()
	sent := m.pending
	m.pending = nil
	m.mu.Unlock()
	for _, e := range sent {
		for _, typ := range devstack.SimulatedEvents(e.To) {
			record, err := devstack.Record(e, typ, time.Now())
			if err != nil {
				return err
			}
			if err := m.handler.Handle(ctx, record); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventsFirst is the breaker's store, with SES's events for what was sent so far
// arriving just before the breaker reads the round's figures (before each batch).
type eventsFirst struct {
	pg.BreakerStore
	ses *simulatedSES
}

func (s eventsFirst) BreakerReading(ctx context.Context, round int) (pg.BreakerState, pg.DeliveryCounts, error) {
	if err := s.ses.deliver(ctx); err != nil {
		return pg.BreakerState{}, pg.DeliveryCounts{}, err
	}
	return s.BreakerStore.BreakerReading(ctx, round)
}

// addMemberAt makes a confirmed member of a group with a given address.
func (s *site) addMemberAt(t *testing.T, group, email, name string) {
	t.Helper()
	ctx := context.Background()
	su := pg.Signup{Email: email, Profile: pg.Profile{Name: name}, Groups: []string{group}, Form: "join", NonceHash: "n", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	p := pg.Person{Email: email}
	if err := s.App.Stores.Memberships.SaveSignup(ctx, p, su, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Stores.Memberships.ConfirmSignup(ctx, p, su, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// A round whose emails bounce part-way through: the circuit breaker pauses it (the
// announcer claims no more batches; nothing SES took is lost or sent again), the
// admins are emailed once however often the run is tried, the round says why, and an
// admin's resume sends the rest exactly once without tripping again on the same
// bounces.
func TestTheCircuitBreakerPausesARoundWhoseEmailsBounceAndAResumeSendsTheRestOnce(t *testing.T) {
	t.Parallel()
	f := newRoundWith(t, 20, map[string]string{"BOUNCE_BREAKER_MIN_SENDS": "10"})
	ctx := context.Background()
	label := strings.ToLower(testenv.RandomID())
	var bouncing []string
	for i := range 3 {
		// They sort first among London's members: in its first batch of announcements.
		addr := fmt.Sprintf("bounce+%s-%d@%s", label, i, devstack.SimulatorDomain)
		f.s.addMemberAt(t, "london", addr, fmt.Sprintf("Bouncing %d", i))
		bouncing = append(bouncing, addr)
		// As many more in Midlands, which the fixture's check wants as big as London.
		f.members["midlands"] = append(f.members["midlands"], f.s.addMember(t, "midlands", fmt.Sprintf("Extra %d", i)))
	}
	f.members["london"] = append(f.members["london"], bouncing...)
	_, handler, err := feedbacking.New(f.s.Config, app.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	a := f.announcer(t, nil, "")
	ses := &simulatedSES{inner: a.Mailer, handler: handler}
	a.Mailer, a.Workers = ses, 1
	a.Breaker.Store = eventsFirst{a.Breaker.Store, ses}

	if err := a.Run(ctx, 1); !errors.Is(err, pg.ErrPaused) {
		t.Fatalf("the run with 3 bounces among its first emails: %v, want it paused", err)
	}
	pub, err := f.s.App.Services.Rounds.Progress(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Breaker.Paused || pub.Left() == 0 || pub.Sent == 0 || !strings.Contains(pub.Breaker.Pause.Reason, "3 of") {
		t.Fatalf("after the bounces: paused %v (%q), %d sent, %d of %d left; want it paused part-way, saying why",
			pub.Breaker.Paused, pub.Breaker.Pause.Reason, pub.Sent, pub.Left(), pub.Total)
	}
	sentAtPause := pub.Sent
	// The trigger delivered again: nothing more is sent, and the admins are not told twice.
	if err := a.Run(ctx, 1); !errors.Is(err, pg.ErrPaused) {
		t.Fatalf("the trigger again while paused: %v", err)
	}
	if pub, _ := f.s.App.Services.Rounds.Progress(ctx, 1); pub.Sent != sentAtPause {
		t.Errorf("a run while paused sent %d more", pub.Sent-sentAtPause)
	}
	told := 0
	for _, m := range testenv.Mail(t, f.admin.Email) {
		if strings.HasPrefix(m.Subject, "Round 1: sending paused") {
			told++
			if !strings.Contains(m.Body.Text, "3 of") || !strings.Contains(m.Body.Text, "/admin/rounds/1") {
				t.Errorf("the admins' email does not say why or link to the round:\n%s", m.Body.Text)
			}
		}
	}
	if told != 1 {
		t.Errorf("the admin was told of the pause %d times, want once", told)
	}
	if err := f.s.App.Services.Rounds.Resume(ctx, f.admin, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx, 1); err != nil {
		t.Fatalf("the run after the resume: %v (the same bounces must not pause it again)", err)
	}
	if err := f.s.App.Services.Rounds.Resume(ctx, f.admin, 1); pg.KindOf(err) != pg.KindConflict {
		t.Errorf("resuming a round that finished: %v", err)
	}
	f.check(t) // every member (the bouncing ones too) and facilitator once: nothing lost, nothing sent twice
	pub, err = f.s.App.Services.Rounds.Progress(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Breaker.Paused || !pub.Done || pub.Breaker.ArmedBounced != 3 {
		t.Errorf("after the resume: paused %v, done %v, armed at %d bounces; want sent, armed at 3", pub.Breaker.Paused, pub.Done, pub.Breaker.ArmedBounced)
	}
	actions := map[string]int{}
	entries, _, err := f.s.App.Stores.Network.Audit(ctx, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Target == "1" {
			actions[e.Action]++
		}
	}
	if actions["pause sending"] != 1 || actions["resume sending"] != 1 {
		t.Errorf("the audit trail has %d pauses and %d resumes of round 1, want 1 of each", actions["pause sending"], actions["resume sending"])
	}
}
