package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

const day = 24 * time.Hour

// ttlOf returns an item's ttl (0 when it has none), read straight from the table.
func ttlOf(t *testing.T, table, pk, sk string) int64 {
	t.Helper()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatalf("no item %s %s", pk, sk)
	}
	v, ok := out.Item[dynamo.TTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Someone who leaves every group is erased twelve months later: their items carry the
// ttl, and once it has passed they are gone, even before DynamoDB's TTL deletes them.
// Joining a group again before then keeps them.
func TestSomeoneWhoLeftEveryGroupIsGoneTwelveMonthsLater(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	ctx := context.Background()
	email, back := testenv.Address("left"), testenv.Address("back")
	tokens := map[string]string{}
	for _, e := range []string{email, back} {
		tokens[e] = tokenOf(t, testenv.Link(t, s.joinAndConfirm(e).Body.Text, "/manage"))
		if r := s.post("/manage/leave-all", url.Values{"token": {tokens[e]}}); r.Status != http.StatusOK {
			t.Fatalf("leave all: %d\n%s", r.Status, r.Body)
		}
	}
	left := s.Clock.Now()
	if got, want := ttlOf(t, s.Table, "PERSON#"+email, "PROFILE"), left.Add(365*day).Unix(); got != want {
		t.Errorf("profile's ttl: %d, want %d (twelve months after leaving)", got, want)
	}
	if got := ttlOf(t, s.Table, "PERSON#"+email, "MEMBERSHIP#midlands"); got != left.Add(365*day).Unix() {
		t.Errorf("left membership's ttl: %d", got)
	}
	// The other joins again a month later: kept.
	s.Clock.Add(30 * day)
	if r := s.post("/manage/groups", url.Values{"token": {tokens[back]}, "groups": {"midlands"}}); r.Status != http.StatusOK {
		t.Fatalf("join again: %d\n%s", r.Status, r.Body)
	}
	if got := ttlOf(t, s.Table, "PERSON#"+back, "PROFILE"); got != 0 {
		t.Errorf("the profile of someone who joined again still expires at %d", got)
	}

	s.Clock.Set(left.Add(365*day - time.Second))
	if p, err := s.App.Stores.People.Person(ctx, email); err != nil || !p.Known {
		t.Fatalf("a second before twelve months: known %v, %v", p.Known, err)
	}
	s.Clock.Set(left.Add(365 * day))
	p, err := s.App.Stores.People.Person(ctx, email)
	if err != nil || p.Known || len(p.Memberships) != 0 {
		t.Errorf("twelve months after leaving: %+v, %v; want nothing", p, err)
	}
	if p, err := s.App.Stores.People.Person(ctx, back); err != nil || !p.IsMember("midlands") {
		t.Errorf("the one who joined again: %+v, %v", p, err)
	}
}

// Audit entries carry a ttl six years ahead, and past it the trail leaves them out.
func TestAuditEntriesAreKeptSixYears(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("retention-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	if err := s.App.Services.Network.SetPaused(ctx, pg.Caller{Email: admin, Admin: true}, "london", true); err != nil {
		t.Fatal(err)
	}
	entries, _, err := s.App.Stores.Network.Audit(ctx, 50, "")
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit trail: %v %v", entries, err)
	}
	// The entry names the admin by their pseudonym (see audit_test.go); a pointer lists
	// it under them (AUDITOF#<hash>, for their export), with the same ttl.
	named := 0
	var entryTTL, pointerTTL any
	for _, it := range remains(t, s, pg.ErasedHash(s.App.Services.Memberships.Pseudonym, admin)) {
		switch pk, _ := it["pk"].(string); {
		case pk == "AUDIT":
			named++
			entryTTL = it["ttl"]
		case strings.HasPrefix(pk, "AUDITOF#"):
			pointerTTL = it["ttl"]
		}
	}
	if named != 1 {
		t.Fatal("the entry is not in the audit table")
	}
	if entryTTL == nil || pointerTTL != entryTTL {
		t.Errorf("the entry's ttl %v, its pointer's %v: want the same", entryTTL, pointerTTL)
	}
	s.Clock.Set(entries[0].At.Add(6*365*day - time.Second))
	if entries, _, _ := s.App.Stores.Network.Audit(ctx, 50, ""); len(entries) != 1 {
		t.Errorf("a second before six years: %d entries", len(entries))
	}
	s.Clock.Set(entries[0].At.Add(6 * 365 * day))
	if entries, _, _ := s.App.Stores.Network.Audit(ctx, 50, ""); len(entries) != 0 {
		t.Errorf("six years on the trail still shows %v", entries)
	}
}

// A message someone sent us is kept twelve months; what happened to an email we sent,
// ninety days.
func TestInboundMailAndDeliveryEventsExpire(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	ctx := context.Background()
	from := testenv.Address("writer")
	at := s.Clock.Now()
	ref := "PG-RETAIN"
	msg := pg.InboundMessage{ID: "ses-retain-1", RawKey: "inbound/ses-retain-1", Received: at, From: from, Subject: "Hello", Text: "Hello"}
	conv := pg.Conversation{Ref: ref, Status: "open", From: from, Subject: "Hello", Started: at, Updated: at, Messages: 1, Version: 1}
	if err := s.App.Stores.MailIn.SaveInbound(ctx, msg, conv, nil, nil, pg.AuditEntry{At: at, Actor: "mail-in", Action: "receive mail", Target: ref}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.App.Stores.MailIn.ConversationMessages(ctx, ref); len(got) != 1 {
		t.Fatalf("messages: %v", got)
	}

	row := pg.LedgerRow{LedgerID: pg.LedgerID{Kind: pg.LedgerAnnouncement, Group: "london", Email: from}, Name: "W", Run: "run-1", ClaimedAt: at}
	if err := s.App.Stores.Announcements.Claim(ctx, 7, []pg.LedgerRow{row}); err != nil {
		t.Fatal(err)
	}
	row.State, row.MessageID = pg.LedgerSent, "ses-out-1"
	if err := s.App.Stores.Announcements.Settle(ctx, 7, "settle-1", []pg.LedgerRow{row}, at); err != nil {
		t.Fatal(err)
	}
	if rows, err := s.App.Stores.Announcements.Ledger(ctx, 7); err != nil || len(rows) != 1 {
		t.Fatalf("ledger: %v %v", rows, err)
	}

	s.Clock.Set(at.Add(90*day - time.Second))
	if rows, _ := s.App.Stores.Announcements.Ledger(ctx, 7); len(rows) != 1 {
		t.Errorf("a second before ninety days the ledger has %d rows", len(rows))
	}
	s.Clock.Set(at.Add(90 * day))
	if rows, _ := s.App.Stores.Announcements.Ledger(ctx, 7); len(rows) != 0 {
		t.Errorf("ninety days on the ledger still shows %v", rows)
	}
	if got, _ := s.App.Stores.MailIn.ConversationMessages(ctx, ref); len(got) != 1 {
		t.Errorf("the message went before twelve months")
	}
	s.Clock.Set(at.Add(365 * day))
	if got, _ := s.App.Stores.MailIn.ConversationMessages(ctx, ref); len(got) != 0 {
		t.Errorf("twelve months on the conversation still shows %v", got)
	}
	if !strings.HasPrefix(ref, "PG-") {
		t.Fatal(ref)
	}
}
