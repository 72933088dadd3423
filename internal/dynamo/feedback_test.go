package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// A run stopped after SES accepted a batch and before the ledger recorded it leaves
// rows "sending": SES's Send event marks them sent (so that resuming sends nobody the
// same email again), and later events only ever raise a row's delivery state,
// whatever their order; a permanent bounce suppresses the address, with its evidence.
func TestSESEventsCloseTheLedgersOpenWindowAndOnlyRaiseADeliveryState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	stores := dynamo.Capabilities(st)
	const round = 12
	rows := batchOf("run-dead", "ada@example.org", "bob@example.org")
	if err := retryContended(func() error { return stores.Announcements.Claim(ctx, round, rows) }); err != nil {
		t.Fatal(err)
	}
	f := &pg.Feedback{Env: pg.Env{Now: func() time.Time { return claimedAt }}, Store: stores.Feedback}
	tags := pg.LedgerTags(round, pg.LedgerAnnouncement, "london")
	event := func(typ, email string) pg.FeedbackEvent {
		e := pg.FeedbackEvent{Type: typ, MessageID: "ses-" + email, At: claimedAt, Tags: tags, Recipients: []pg.FeedbackRecipient{{Email: email}}}
		if typ == pg.FeedbackBounce {
			e.BounceType, e.BounceSubType, e.Recipients[0].Status, e.Recipients[0].Diagnostic = "Permanent", "General", "5.1.1", "smtp; 550 user unknown"
		}
		return e
	}
	apply := func(e pg.FeedbackEvent) pg.FeedbackOutcome {
		t.Helper()
		out, err := f.Apply(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := apply(event(pg.FeedbackSend, "ada@example.org")); out.Recorded != 1 {
		t.Fatalf("a Send event: %+v", out)
	}
	ledger, err := stores.Announcements.Ledger(ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ledger {
		want := map[string]pg.LedgerState{"ada@example.org": pg.LedgerSent, "bob@example.org": pg.LedgerSending}[r.Email]
		if r.State != want {
			t.Errorf("%s is %s after the Send event for Ada, want %s", r.Email, r.State, want)
		}
		if r.Email == "ada@example.org" && r.MessageID != "ses-ada@example.org" {
			t.Errorf("Ada's row has message ID %q", r.MessageID)
		}
	}
	apply(event(pg.FeedbackDelivery, "bob@example.org"))
	if out := apply(event(pg.FeedbackBounce, "bob@example.org")); out.Recorded != 1 || len(out.Suppressed) != 1 {
		t.Fatalf("a permanent bounce after the delivery: %+v", out)
	}
	// Late and repeated events change nothing.
	for _, typ := range []string{pg.FeedbackDelivery, pg.FeedbackSend, pg.FeedbackDeliveryDelay} {
		if out := apply(event(typ, "bob@example.org")); out.Recorded != 0 {
			t.Errorf("a %s after the bounce moved the state: %+v", typ, out)
		}
	}
	if out := apply(event(pg.FeedbackBounce, "bob@example.org")); out.Recorded != 0 {
		t.Errorf("the same bounce twice moved the state again: %+v", out)
	}
	suppressed, err := stores.Announcements.Suppressed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !suppressed["bob@example.org"] || suppressed["ada@example.org"] {
		t.Errorf("suppressed %v, want only Bob", suppressed)
	}
	bob := item(t, st, "SEND#0012", string(pg.LedgerAnnouncement)+"#london#bob@example.org")
	if got := bob["deliveryState"].(*types.AttributeValueMemberS).Value; got != "bounced" {
		t.Errorf("Bob's delivery state is %q, want bounced", got)
	}
	if got := bob["deliveryDetail"].(*types.AttributeValueMemberS).Value; got != "permanent bounce; General; 5.1.1; smtp; 550 user unknown; SES message ses-bob@example.org" {
		t.Errorf("Bob's delivery detail is %q", got)
	}
	// An event for a row that does not exist (a typo in a tag, another stack) is ignored.
	other := event(pg.FeedbackDelivery, "carol@example.org")
	if out := apply(other); out.Recorded != 0 {
		t.Errorf("an event for no row: %+v", out)
	}
}
