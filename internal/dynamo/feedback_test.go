package dynamo_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/links"
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

// feedbackOn returns the feedback service over st, at claimedAt, suppressing after
// limit transient bounces in a row.
func feedbackOn(st *dynamo.Store, limit int) *pg.Feedback {
	return &pg.Feedback{Env: pg.Env{Now: func() time.Time { return claimedAt }}, Store: dynamo.Capabilities(st).Feedback, TransientLimit: limit}
}

func bounceOf(id, email, bounceType string, at time.Time) pg.FeedbackEvent {
	return pg.FeedbackEvent{Type: pg.FeedbackBounce, MessageID: id, At: at, BounceType: bounceType, BounceSubType: "MailboxFull", FeedbackID: "fb-" + id,
		Recipients: []pg.FeedbackRecipient{{Email: email, Status: "4.2.2", Diagnostic: "smtp; 452 4.2.2 mailbox full"}}}
}

// Transient bounces suppress only when there have been the limit in a row: a delivery
// ends a run, the same bounce twice counts once, and a late delivery older than the
// last bounce ends nothing. The suppression's audit entry carries the evidence.
func TestTransientBouncesSuppressOnlyAfterSeveralInARow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	f := feedbackOn(st, 3)
	const who = "full@example.org"
	apply := func(e pg.FeedbackEvent) pg.FeedbackOutcome {
		t.Helper()
		out, err := f.Apply(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	at := func(h int) time.Time { return claimedAt.Add(time.Duration(h) * time.Hour) }
	apply(bounceOf("m1", who, "Transient", at(1)))
	apply(bounceOf("m1", who, "Transient", at(1))) // delivered twice: counts once
	if out := apply(bounceOf("m2", who, "Transient", at(2))); len(out.Suppressed) != 0 {
		t.Fatalf("suppressed after two transient bounces (one of them twice): %+v", out)
	}
	apply(pg.FeedbackEvent{Type: pg.FeedbackDelivery, MessageID: "m3", At: at(3), Recipients: []pg.FeedbackRecipient{{Email: who}}})
	apply(bounceOf("m4", who, "Transient", at(4)))
	apply(bounceOf("m5", who, "Transient", at(5)))
	// A delivery from before those bounces, arriving late, does not end their run.
	apply(pg.FeedbackEvent{Type: pg.FeedbackDelivery, MessageID: "m0", At: at(0), Recipients: []pg.FeedbackRecipient{{Email: who}}})
	if out := apply(bounceOf("m6", who, "Transient", at(6))); len(out.Suppressed) != 1 {
		t.Fatalf("the third transient bounce in a row since the delivery: %+v, want the address suppressed", out)
	}
	if out := apply(bounceOf("m7", who, "Transient", at(7))); len(out.Suppressed) != 0 {
		t.Errorf("a fourth transient bounce suppressed the address again: %+v", out)
	}
	if suppressed, err := dynamo.Capabilities(st).Announcements.Suppressed(ctx); err != nil || !suppressed[who] {
		t.Fatalf("suppressed %v, %v", suppressed, err)
	}
	for addr, want := range map[string]bool{who: true, "other@example.org": false} {
		if got, err := dynamo.Capabilities(st).Outbox.AddressSuppressed(ctx, addr); err != nil || got != want {
			t.Errorf("the outbox reads %s as suppressed: %v (%v), want %v", addr, got, err, want)
		}
	}
	entries, _, err := dynamo.Capabilities(st).Network.Audit(ctx, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != "suppress address" || entries[0].Target != who {
		t.Fatalf("audit entries %+v, want one suppression", entries)
	}
	for _, want := range []string{`"bounceType":"Transient"`, `"bounceSubType":"MailboxFull"`, `"diagnostic":"smtp; 452 4.2.2 mailbox full"`, `"feedbackId":"fb-m6"`, `3 transient bounces in a row`} {
		if !strings.Contains(entries[0].After, want) {
			t.Errorf("the suppression's evidence %s lacks %s", entries[0].After, want)
		}
	}
}

// A complaint suppresses the address and ends the person's memberships and interests,
// as an unsubscribe would, with the reason on each membership, in one write with its
// audit entry; the same complaint twice changes nothing more. A sign-up confirmed by
// its link afterwards lifts our suppression, with an audit entry.
func TestAComplaintEndsTheMembershipsAndAConfirmedSignUpLiftsTheSuppression(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	stores := dynamo.Capabilities(st)
	const who = "angry@example.org"
	su := pg.Signup{Email: who, Profile: pg.Profile{Name: "Angry"}, Groups: []string{"london", "midlands"}, Form: "join", NonceHash: "n1", CreatedAt: claimedAt, ExpiresAt: claimedAt.Add(time.Hour)}
	if err := stores.Memberships.SaveSignup(ctx, pg.Person{Email: who}, su, nil); err != nil {
		t.Fatal(err)
	}
	if err := stores.Memberships.ConfirmSignup(ctx, pg.Person{Email: who}, su, claimedAt); err != nil {
		t.Fatal(err)
	}
	f := feedbackOn(st, 3)
	complaint := pg.FeedbackEvent{Type: pg.FeedbackComplaint, MessageID: "c1", At: claimedAt, ComplaintType: "abuse", FeedbackID: "fb-c1", Recipients: []pg.FeedbackRecipient{{Email: who}}}
	out, err := f.Apply(ctx, complaint)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Suppressed) != 1 || len(out.Left) != 2 {
		t.Fatalf("the complaint: %+v, want the address suppressed and two groups left", out)
	}
	if again, err := f.Apply(ctx, complaint); err != nil || len(again.Suppressed) != 0 {
		t.Fatalf("the same complaint again: %+v %v", again, err)
	}
	person, err := stores.People.Person(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	if len(person.ConfirmedGroups()) != 0 || person.Suppressed == "" {
		t.Fatalf("after the complaint: groups %v, suppressed %q", person.ConfirmedGroups(), person.Suppressed)
	}
	london := item(t, st, "PERSON#"+who, "MEMBERSHIP#london")
	if got := london["leftReason"].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(got, "complaint: complaint; abuse") {
		t.Errorf("the membership's reason for leaving is %q", got)
	}
	entries, _, err := stores.Network.Audit(ctx, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.Contains(entries[0].After, `"left":["london","midlands"]`) || !strings.Contains(entries[0].After, `"feedbackId":"fb-c1"`) {
		t.Fatalf("audit entries %+v, want one suppression naming the groups left and the feedback ID", entries)
	}

	// They sign up again through the form and confirm: new consent lifts our suppression.
	su.NonceHash = "n2"
	if err := stores.Memberships.SaveSignup(ctx, person, su, nil); err != nil {
		t.Fatal(err)
	}
	person, _ = stores.People.Person(ctx, who)
	if err := stores.Memberships.ConfirmSignup(ctx, person, su, claimedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if suppressed, _ := stores.Announcements.Suppressed(ctx); suppressed[who] {
		t.Error("still suppressed after confirming a new sign-up")
	}
	if person, _ = stores.People.Person(ctx, who); person.Suppressed != "" || len(person.ConfirmedGroups()) != 2 {
		t.Errorf("after the new sign-up: suppressed %q, groups %v", person.Suppressed, person.ConfirmedGroups())
	}
	entries, _, _ = stores.Network.Audit(ctx, 50, "")
	if len(entries) != 2 || entries[0].Action != "lift suppression" || !strings.Contains(entries[0].After, `"consentForm":"join"`) {
		t.Errorf("audit entries %+v, want the lift, with the new consent, on top", entries)
	}
}

// A transactional email's events find its outbox item by its tag: its delivery state
// only moves up, and a Send event for an item a stopped run left "sending" settles it.
func TestTransactionalMailGetsDeliveryStatesThroughItsOutboxTag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	st.Box = testBox(t)
	stores := dynamo.Capabilities(st)
	id := "0123456789abcdef0123456789abcdef"
	if err := stores.Outbox.Enqueue(ctx, pg.OutboxItem{ID: id, At: claimedAt, Message: &pg.Message{To: "ada@example.org", Subject: "Sign in"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores.Outbox.ClaimOutbox(ctx, id, "run-dead", time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	f := feedbackOn(st, 3)
	tags := map[string]string{pg.TagOutbox: id}
	for _, typ := range []string{pg.FeedbackSend, pg.FeedbackDelivery, pg.FeedbackSend} {
		if _, err := f.Apply(ctx, pg.FeedbackEvent{Type: typ, MessageID: "ses-1", At: claimedAt, Tags: tags, Recipients: []pg.FeedbackRecipient{{Email: "ada@example.org"}}}); err != nil {
			t.Fatal(err)
		}
	}
	it := item(t, st, "OUTBOX#"+id, "OUTBOX")
	if got := it["state"].(*types.AttributeValueMemberS).Value; got != "sent" {
		t.Errorf("the item a stopped run left sending is %q after SES's Send event, want sent", got)
	}
	if got := it["deliveryState"].(*types.AttributeValueMemberS).Value; got != "delivered" {
		t.Errorf("its delivery state is %q, want delivered (a late Send does not lower it)", got)
	}
	if _, sealed := it["sealed"]; sealed {
		t.Error("the settled item still holds its sealed email")
	}
}

// testBox seals outbox items with a key of this test's own.
func testBox(t *testing.T) *links.Box {
	t.Helper()
	box, err := links.NewBox(make([]byte, 32), "outbox", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// A reminder's events find its row in the reminders' own ledger: a Send event for a
// reminder a stopped run left "sending" marks it sent, so the next hourly run skips it.
func TestAReminderSESTookIsMarkedSentByItsSendEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	stores := dynamo.Capabilities(st)
	id := pg.LedgerID{Kind: pg.LedgerReminder, Group: "london", Email: "ada@example.org"}
	if err := stores.Reminders.ClaimReminder(ctx, 12, pg.LedgerRow{LedgerID: id, Name: "Ada", State: pg.LedgerSending, Run: "run-dead", ClaimedAt: claimedAt}); err != nil {
		t.Fatal(err)
	}
	e := pg.FeedbackEvent{Type: pg.FeedbackSend, MessageID: "ses-r1", At: claimedAt, Tags: pg.LedgerTags(12, pg.LedgerReminder, "london"), Recipients: []pg.FeedbackRecipient{{Email: id.Email}}}
	if out, err := feedbackOn(st, 3).Apply(ctx, e); err != nil || out.Recorded != 1 {
		t.Fatalf("the reminder's Send event: %+v %v", out, err)
	}
	row, found, err := stores.Reminders.ReminderRow(ctx, 12, id)
	if err != nil || !found || row.State != pg.LedgerSent || row.MessageID != "ses-r1" {
		t.Fatalf("the reminder's row: %+v (found %v, %v), want sent with SES's message ID", row, found, err)
	}
	// The Send event of a reminder whose run is alive can come before the run
	// settles it: the settle is then no error, and a run that took the row over is.
	live := pg.LedgerID{Kind: pg.LedgerReminder, Group: "london", Email: "bob@example.org"}
	claimed := pg.LedgerRow{LedgerID: live, Name: "Bob", State: pg.LedgerSending, Run: "run-live", ClaimedAt: claimedAt}
	if err := stores.Reminders.ClaimReminder(ctx, 12, claimed); err != nil {
		t.Fatal(err)
	}
	e.MessageID, e.Recipients = "ses-r2", []pg.FeedbackRecipient{{Email: live.Email}}
	if out, err := feedbackOn(st, 3).Apply(ctx, e); err != nil || out.Recorded != 1 {
		t.Fatalf("the live reminder's Send event: %+v %v", out, err)
	}
	settled := claimed
	settled.State, settled.MessageID = pg.LedgerSent, "ses-r2"
	if err := stores.Reminders.SettleReminder(ctx, 12, settled, claimedAt.Add(time.Second)); err != nil {
		t.Errorf("settling a reminder its Send event settled first: %v", err)
	}
	settled.Run = "run-other"
	if err := stores.Reminders.SettleReminder(ctx, 12, settled, claimedAt.Add(time.Second)); err == nil {
		t.Error("a run that does not hold a reminder settled it")
	}
}

// SES's Send event for one email of a batch can reach the feedback function before the
// run that sent the batch settles it. The feedback function marks that row sent and
// counts it; the run's settle then finds one row no longer "sending" and settles the
// others without stopping. Each row ends sent once, and the round counts each once.
func TestASendEventBeforeItsRunsSettleNeitherStopsTheRunNorCountsTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	stores := dynamo.Capabilities(st)
	const round = 14
	emails := []string{"ada@example.org", "bob@example.org", "cy@example.org"}
	rows := batchOf("run-live", emails...)
	if err := retryContended(func() error { return stores.Announcements.Claim(ctx, round, rows) }); err != nil {
		t.Fatal(err)
	}
	f := &pg.Feedback{Env: pg.Env{Now: func() time.Time { return claimedAt }}, Store: stores.Feedback}
	early := pg.FeedbackEvent{Type: pg.FeedbackSend, MessageID: "ses-bob@example.org", At: claimedAt, Tags: pg.LedgerTags(round, pg.LedgerAnnouncement, "london"),
		Recipients: []pg.FeedbackRecipient{{Email: "bob@example.org"}}}
	if out, err := f.Apply(ctx, early); err != nil || out.Recorded != 1 {
		t.Fatalf("the early Send event: %+v, %v", out, err)
	}
	for i := range rows {
		rows[i].State, rows[i].MessageID = pg.LedgerSent, "ses-"+rows[i].Email
	}
	if err := retryContended(func() error {
		return stores.Announcements.Settle(ctx, round, "run-live-1", rows, claimedAt.Add(time.Second))
	}); err != nil {
		t.Fatalf("the run's settle after an early Send event: %v", err)
	}
	ledger, err := stores.Announcements.Ledger(ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ledger {
		if r.State != pg.LedgerSent || r.MessageID != "ses-"+r.Email {
			t.Errorf("%s is %s with message %q, want sent with ses-%s", r.Email, r.State, r.MessageID, r.Email)
		}
	}
	// The round's progress items: the feedback function's for Bob, the run's for the
	// other two.
	out, err := dbClient(t).Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "PROGRESS#0014"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, it := range out.Items {
		n, _ := strconv.Atoi(str(it, "sent"))
		sent += n
	}
	if sent != len(emails) {
		t.Errorf("the round counts %d sent in %d progress items, want %d (each email once)", sent, len(out.Items), len(emails))
	}
}
