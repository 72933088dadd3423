package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// auditTrail reads the whole audit trail, page by page (bounded).
func auditTrail(t *testing.T, s *site, admin string) []pg.AuditEntry {
	t.Helper()
	var all []pg.AuditEntry
	cursor := ""
	for range 100 {
		entries, next, err := s.App.Services.Network.AuditTrail(context.Background(), pg.Caller{Email: admin, Admin: true}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, entries...)
		if next == "" {
			return all
		}
		cursor = next
	}
	t.Fatal("the audit trail has more than 100 pages")
	return nil
}

// Every email the outbox sends is in the audit trail once, as sent by the service,
// with its kind and outbox reference and never its content, however often the
// stream delivers its record.
func TestEveryEmailTheOutboxSendsIsAuditedOnce(t *testing.T) {
	t.Parallel()
	wrap := func(next devstack.StreamHandler) devstack.StreamHandler {
		return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() { next(ctx, ev) })
			}
			wg.Wait()
			return next(ctx, ev)
		}
	}
	admin := testenv.Address("audit-admin")
	s := newSiteWith(t, siteOptions{extra: map[string]string{"ADMIN_EMAILS": admin}, outbox: testenv.OutboxOptions{Wrap: wrap}})
	email := testenv.Address("audited")
	s.joinAndConfirm(email)
	sent := testenv.Mail(t, email)
	var entries []pg.AuditEntry
	for _, e := range auditTrail(t, s, admin) {
		if e.Action == "send email" && e.Target == pg.MailOutTarget(s.App.Services.Memberships.Pseudonym, email) {
			entries = append(entries, e)
		}
	}
	if len(entries) != len(sent) || len(sent) != 2 {
		t.Fatalf("%d emails sent, %d audited as sent: want one entry for each", len(sent), len(entries))
	}
	kinds := map[string]bool{}
	for _, e := range entries {
		var after struct{ Kind, Outbox string }
		if err := json.Unmarshal([]byte(e.After), &after); err != nil {
			t.Fatal(err)
		}
		if e.Actor != pg.MailOutActor || after.Kind == "" || after.Outbox == "" {
			t.Errorf("entry %+v: want the service as actor, the email's kind and outbox reference", e)
		}
		kinds[after.Kind] = true
		for _, m := range sent {
			if strings.Contains(e.After, m.Subject) || strings.Contains(e.After, "http") {
				t.Errorf("the audit entry keeps the email's content: %s", e.After)
			}
		}
	}
	if len(kinds) != 2 {
		t.Errorf("kinds %v: want the confirmation and the welcome apart", kinds)
	}
}

// A round's announcements are in the audit trail one entry per batch, whose counts add
// up to the emails sent: not one entry per recipient.
func TestAnnouncementsAreAuditedOncePerBatch(t *testing.T) {
	t.Parallel()
	f := newRound(t, 12)
	if err := f.announcer(t, nil, "").Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	sent, batches := map[string]int{}, map[string]int{}
	for _, e := range auditTrail(t, f.s, f.admin.Email) {
		if e.Actor != pg.MailOutActor || e.Action != "send announcements" {
			continue
		}
		var after struct {
			Group string
			Sent  int
		}
		if err := json.Unmarshal([]byte(e.After), &after); err != nil {
			t.Fatal(err)
		}
		sent[after.Group] += after.Sent
		batches[after.Group]++
	}
	for _, g := range []string{"london", "midlands"} {
		want := len(f.members[g])
		if g == "london" {
			want-- // one is suppressed
		}
		if sent[g] != want || batches[g] < 2 || batches[g] >= want {
			t.Errorf("%s: %d batches audited with %d sent; want a few batches adding up to %d", g, batches[g], sent[g], want)
		}
	}
}
