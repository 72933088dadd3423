package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// SES's events come at least once and out of order. The round's delivery figures move
// with the ledger rows, so each email is counted once, at the state it ended in:
// whatever order the events came in, however often each came, and when the same
// event is applied several times at once.
func TestDeliveryFiguresCountEachEmailOnceAtTheStateItEndedInWhateverTheEventsOrderOrRepeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	stores := dynamo.Capabilities(st)
	const round = 7
	emails := []string{"ada@example.org", "bob@example.org", "cy@example.org", "dee@example.org", "eve@example.org"}
	if err := retryContended(func() error { return stores.Announcements.Claim(ctx, round, batchOf("run-1", emails...)) }); err != nil {
		t.Fatal(err)
	}
	f := &pg.Feedback{Env: pg.Env{Now: func() time.Time { return claimedAt }}, Store: stores.Feedback}
	event := func(typ, email string) pg.FeedbackEvent {
		e := pg.FeedbackEvent{Type: typ, MessageID: "ses-" + email, At: claimedAt, Tags: pg.LedgerTags(round, pg.LedgerAnnouncement, "london"), Recipients: []pg.FeedbackRecipient{{Email: email}}}
		switch typ {
		case pg.FeedbackBounce:
			e.BounceType, e.BounceSubType, e.Recipients[0].Status, e.Recipients[0].Diagnostic = "Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown"
		case pg.FeedbackComplaint:
			e.ComplaintType = "abuse"
		}
		return e
	}
	apply := func(typ, email string) {
		t.Helper()
		if _, err := f.Apply(ctx, event(typ, email)); err != nil {
			t.Fatal(err)
		}
	}
	// Ada: in order, then each event again.
	for _, typ := range []string{pg.FeedbackSend, pg.FeedbackDelivery, pg.FeedbackSend, pg.FeedbackDelivery} {
		apply(typ, "ada@example.org")
	}
	// Bob: the bounce first, then the Send and a Delivery that came late.
	for _, typ := range []string{pg.FeedbackBounce, pg.FeedbackSend, pg.FeedbackDelivery, pg.FeedbackBounce} {
		apply(typ, "bob@example.org")
	}
	// Cy: delivered, complained about, then the Delivery and the Send again.
	for _, typ := range []string{pg.FeedbackDelivery, pg.FeedbackComplaint, pg.FeedbackDelivery, pg.FeedbackSend, pg.FeedbackComplaint} {
		apply(typ, "cy@example.org")
	}
	// Dee: sent twice, then delayed.
	for _, typ := range []string{pg.FeedbackSend, pg.FeedbackSend, pg.FeedbackDeliveryDelay} {
		apply(typ, "dee@example.org")
	}
	// Eve: the same Send and the same Delivery, eight of each at once.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		for _, typ := range []string{pg.FeedbackSend, pg.FeedbackDelivery} {
			wg.Go(func() {
				if _, err := f.Apply(ctx, event(typ, "eve@example.org")); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	d, err := stores.Rounds.RoundDelivery(ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	want := pg.DeliveryCounts{Delayed: 1, Delivered: 2, Bounced: 1, Complained: 1}
	if got := d.For(pg.LedgerAnnouncement, "london"); got != want {
		t.Errorf("London's announcement counts %+v, want %+v", got, want)
	}
	if got := d.Round(); got.Total() != len(emails) || got.BounceRate() != 0.2 || got.ComplaintRate() != 0.2 {
		t.Errorf("the round's figures %+v: %d emails, bounce rate %v, complaint rate %v; want 5, 0.2, 0.2", got, got.Total(), got.BounceRate(), got.ComplaintRate())
	}
	rows, more, err := stores.Rounds.LedgerPage(ctx, round, pg.LedgerID{}, 3)
	if err != nil || !more || len(rows) != 3 {
		t.Fatalf("the first page of 3: %d rows, more %v, %v", len(rows), more, err)
	}
	rest, more, err := stores.Rounds.LedgerPage(ctx, round, rows[2].LedgerID, 3)
	if err != nil || more || len(rest) != 2 {
		t.Fatalf("the second page: %d rows, more %v, %v", len(rest), more, err)
	}
	wantState := map[string]pg.DeliveryState{
		"ada@example.org": pg.DeliveryDelivered, "bob@example.org": pg.DeliveryBounced, "cy@example.org": pg.DeliveryComplained,
		"dee@example.org": pg.DeliveryDelayed, "eve@example.org": pg.DeliveryDelivered,
	}
	for _, r := range append(rows, rest...) {
		if r.Delivery != wantState[r.Email] {
			t.Errorf("%s's row is %s, want %s", r.Email, r.Delivery, wantState[r.Email])
		}
		if r.Email == "bob@example.org" && r.DeliveryDetail == "" {
			t.Error("Bob's row does not say why it bounced")
		}
	}
}

// Workers that see the same figures at once pause the round once, with one set of
// emails to the admins; a resume lifts the pause and arms the breaker at its figures,
// after which a pause needs the count of pauses it read.
func TestARoundIsPausedOnceWhenSeveralRunsTripItsBreakerAtOnceAndAResumeArmsIt(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	st.Box = testBox(t)
	ctx := context.Background()
	r := draftRound(t, st, 3)
	r.PublishedAt = claimedAt
	rounds := dynamo.Capabilities(st).Rounds
	if err := rounds.PublishRound(ctx, r, auditBy); err != nil {
		t.Fatal(err)
	}
	state, _, err := rounds.BreakerReading(ctx, 3)
	if err != nil || state.Paused || state.Pauses != 0 {
		t.Fatalf("a round just published: %+v, %v", state, err)
	}
	mail := func(to string) pg.OutboxItem {
		return pg.OutboxItem{ID: "pause-" + to, At: claimedAt, Message: &pg.Message{To: to, Subject: "Round 3: sending paused because of bounces", Text: "t", HTML: "h"}}
	}
	var wg sync.WaitGroup
	won := make(chan bool, 4)
	for i := range 4 {
		wg.Go(func() {
			done, err := retryDone(func() (bool, error) {
				return rounds.PauseRound(ctx, 3, state, pg.Pause{At: claimedAt, Reason: fmt.Sprintf("seen by worker %d", i)},
					[]pg.OutboxItem{mail(fmt.Sprintf("admin-%d@example.org", i))}, auditBy)
			})
			if err != nil {
				t.Error(err)
			}
			won <- done
		})
	}
	wg.Wait()
	close(won)
	wins := 0
	for w := range won {
		if w {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d pauses written, want 1", wins)
	}
	queued := 0
	for i := range 4 {
		if item(t, st, "OUTBOX#pause-"+fmt.Sprintf("admin-%d@example.org", i), "OUTBOX") != nil {
			queued++
		}
	}
	if queued != 1 {
		t.Errorf("%d sets of emails to the admins queued, want 1", queued)
	}
	if err := rounds.ResumePaused(ctx, 3, claimedAt.Add(time.Hour), pg.DeliveryCounts{Delivered: 96, Bounced: 4}, auditBy); err != nil {
		t.Fatal(err)
	}
	if err := rounds.ResumePaused(ctx, 3, claimedAt.Add(2*time.Hour), pg.DeliveryCounts{}, auditBy); pg.KindOf(err) != pg.KindConflict {
		t.Errorf("resuming a round that is not paused: %v", err)
	}
	state, _, err = rounds.BreakerReading(ctx, 3)
	if err != nil || state.Paused || state.Pauses != 1 || state.ArmedSent != 100 || state.ArmedBounced != 4 {
		t.Fatalf("after the resume: %+v, %v; want not paused, paused once, armed at 100 sent and 4 bounced", state, err)
	}
	if done, err := rounds.PauseRound(ctx, 3, pg.BreakerState{}, pg.Pause{At: claimedAt, Reason: "stale"}, nil, auditBy); done || err != nil {
		t.Errorf("a pause decided on the figures before the resume was written: %v, %v", done, err)
	}
	if done, err := rounds.PauseRound(ctx, 3, state, pg.Pause{At: claimedAt, Reason: "again"}, nil, auditBy); !done || err != nil {
		t.Errorf("a pause decided after the resume: %v, %v", done, err)
	}
}

// retryDone calls write until DynamoDB stops cancelling it for other writes in flight.
func retryDone(write func() (bool, error)) (bool, error) {
	var done bool
	err := retryContended(func() error {
		var err error
		done, err = write()
		return err
	})
	return done, err
}
