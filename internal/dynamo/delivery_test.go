package dynamo_test

import (
	"context"
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
