package app_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// opCounter counts the requests an AWS client sends, by service and operation, each
// attempt once.
type opCounter struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *opCounter) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("TestCountRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.ops == nil {
				c.ops = map[string]int{}
			}
			c.ops[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

// Asking for a sign-in link or a manage link makes the same requests whether or not the
// address is known: nobody can tell from the time it takes. (None goes to SES: the web
// function has no SES client; the outbox sends.)
func TestLinkRequestsMakeTheSameCallsForKnownAndUnknownAddresses(t *testing.T) {
	t.Parallel()
	count := &opCounter{}
	s := newSiteWith(t, siteOptions{apiOptions: []func(*middleware.Stack) error{count.middleware}})
	known := testenv.Address("known")
	s.joinAndConfirm(known)
	unknown := testenv.Address("unknown")

	for _, c := range []struct{ form, path, subject string }{
		{"/sign-in", "/sign-in", "Sign in to Peer Groups"},
		{"/manage/link", "/manage/link", "Manage your Peer Groups membership"},
	} {
		s.get(c.form)
		calls := map[string]map[string]int{}
		for _, addr := range []string{known, unknown} {
			count.take()
			r := s.post(c.path, url.Values{"email": {addr}})
			calls[addr] = count.take()
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
				t.Fatalf("%s for %s: %d\n%s", c.path, addr, r.Status, r.Body)
			}
		}
		if !maps.Equal(calls[known], calls[unknown]) {
			t.Errorf("%s: a known address makes %v, an unknown one %v", c.path, calls[known], calls[unknown])
		}
		if m := testenv.LastMail(t, known); m.Subject != c.subject {
			t.Errorf("%s: the known address's last email is %q, want %q", c.path, m.Subject, c.subject)
		}
	}
	if n := len(testenv.Mail(t, unknown)); n != 0 {
		t.Errorf("the unknown address got %d emails", n)
	}
}

// The web function dies, as it were, right after the commit: the welcome is in the
// outbox with the membership. Then the outbox function dies after claiming it, before
// SES: the next delivery takes it over once the lease has run out. The welcome arrives
// once, and the record delivered yet again sends nothing more.
func TestACrashBetweenTheCommitAndTheSendStillWelcomesOnce(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		crashed = map[string]bool{}
		records []events.DynamoDBEventRecord
		site    *site
	)
	wrap := func(next devstack.StreamHandler) devstack.StreamHandler {
		return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			rec := ev.Records[0]
			id, ok := dynamostream.OutboxItemID(rec)
			if !ok {
				return next(ctx, ev)
			}
			mu.Lock()
			first := !crashed[id]
			crashed[id] = true
			records = append(records, rec)
			mu.Unlock()
			if first {
				// Claimed by a run that dies at once: no send, no settle, no release.
				if _, err := site.App.Stores.Outbox.ClaimOutbox(ctx, id, "dead-run", time.Now(), 2*time.Second); err != nil {
					t.Errorf("claim as the dead run: %v", err)
				}
				return events.DynamoDBEventResponse{}, context.DeadlineExceeded
			}
			return next(ctx, ev)
		}
	}
	site = newSiteWith(t, siteOptions{outbox: testenv.OutboxOptions{Lease: 2 * time.Second, Wrap: wrap}})
	email := testenv.Address("crash")
	if r := site.post("/join/groups", joinForm(email)); r.Status != http.StatusSeeOther {
		t.Fatalf("join: %d\n%s", r.Status, r.Body)
	}
	mail := testenv.MailEventually(t, email, 1)
	if len(mail) != 1 {
		t.Fatalf("%d emails after the outbox function's crash, want the confirmation", len(mail))
	}
	link := testenv.Link(t, mail[0].Body.Text, "/join/confirm")
	if r := site.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", r.Status, r.Body)
	}
	if mail = testenv.MailEventually(t, email, 2); mail[len(mail)-1].Subject != "You have joined Peer Groups" {
		t.Fatalf("last email %q, want the welcome", mail[len(mail)-1].Subject)
	}

	// Every record again, twice at once, as Lambda may.
	mu.Lock()
	again := append([]events.DynamoDBEventRecord(nil), records...)
	mu.Unlock()
	sender, err := mailing.NewOutbox(site.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(site.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	handler := &dynamostream.OutboxHandler{Outbox: sender, Log: testenv.Logger(t)}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for _, rec := range again {
				if resp, err := handler.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); err != nil || len(resp.BatchItemFailures) > 0 {
					t.Errorf("delivering a record again: %+v %v", resp, err)
				}
			}
		})
	}
	wg.Wait()
	subjects := map[string]int{}
	for _, m := range testenv.Mail(t, email) {
		subjects[m.Subject]++
	}
	if subjects["You have joined Peer Groups"] != 1 || subjects["Confirm that you want to join Peer Groups"] != 1 {
		t.Fatalf("emails by subject %v, want one confirmation and one welcome", subjects)
	}
	for id := range crashed {
		state, attempts, err := site.App.Stores.Outbox.OutboxState(context.Background(), id)
		if err != nil || state != outbox.StateSent || attempts != 2 {
			t.Errorf("outbox item %s: %s after %d claims (%v), want sent after 2 (the dead run's and the one that took over)", id, state, attempts, err)
		}
	}
}

// Approving a proposal does not wait on SES, even when SES is down: everyone
// interested is invited through the outbox once SES is back, each exactly once, even
// when the admin asks for the invitations again meanwhile.
func TestApprovingAProposalInvitesEveryoneInterestedOnceThroughTheOutbox(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	outboxSES := testenv.NewFaultySES(t)
	s := newSiteWith(t, siteOptions{extra: map[string]string{"ADMIN_EMAILS": admin}, outboxSES: outboxSES.URL})
	ctx := t.Context()
	now := s.Clock.Now()
	proposer := testenv.Address("proposer")
	p := pg.PendingProposal{
		Proposal:  pg.Proposal{ID: "north-west-proposal", Area: "North West", ProposerName: "Ada", ProposerEmail: proposer, Why: "No group.", Status: pg.ProposalOpen},
		NonceHash: "n", ExpiresAt: now.Add(time.Hour),
	}
	if err := s.App.Stores.Proposals.SavePendingProposal(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Stores.Proposals.ConfirmProposal(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	var fans []string
	for range 12 {
		fan := testenv.Address("fan")
		pi := pg.PendingInterest{ProposalID: p.ID, Email: fan, Name: "Fan", NonceHash: "n", ExpiresAt: now.Add(time.Hour)}
		if err := s.App.Stores.Proposals.SavePendingInterest(ctx, pi, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.App.Stores.Proposals.ConfirmInterest(ctx, pi, now); err != nil {
			t.Fatal(err)
		}
		fans = append(fans, fan)
	}
	s.signIn(admin)

	outboxSES.Fail(1 << 30)
	approved := s.post("/admin/proposals/"+p.ID+"/approve", url.Values{"id": {"north-west"}, "name": {"North West"}, "regions": {"North West"}})
	if approved.Status != http.StatusSeeOther {
		t.Fatalf("approve with SES down: %d\n%s", approved.Status, approved.Body)
	}
	mustContain(t, s.get(approved.Header.Get("Location")).Body, "12 interested people invited")
	if r := s.post("/admin/proposals/"+p.ID+"/invite", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("invite again: %d\n%s", r.Status, r.Body)
	}
	if n := len(testenv.Mail(t, fans[0])); n != 0 {
		t.Fatalf("%d invitations while SES was down", n)
	}

	outboxSES.Fail(0)
	for _, fan := range fans {
		testenv.MailEventually(t, fan, 1)
	}
	mail := testenv.MailByRecipient(t)
	for _, fan := range fans {
		if got := mail[fan]; len(got) != 1 || got[0].Subject != "A new peer group has started: North West" {
			t.Errorf("%s got %d emails, want one invitation", fan, len(got))
		}
	}
	if got := mail[proposer]; len(got) != 1 || got[0].Subject != "You have been asked to facilitate a peer group" {
		t.Errorf("the proposer got %d emails, want one invitation to facilitate", len(got))
	}
}

// Lambda may deliver a stream record more than once, and run two deliveries at once:
// each outbox item is sent once all the same.
func TestRedeliveredOutboxRecordsSendOnce(t *testing.T) {
	t.Parallel()
	wrap := func(next devstack.StreamHandler) devstack.StreamHandler {
		return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() { next(ctx, ev) })
			}
			wg.Wait()
			return next(ctx, ev)
		}
	}
	s := newSiteWith(t, siteOptions{outbox: testenv.OutboxOptions{Wrap: wrap}})
	email := testenv.Address("again")
	s.joinAndConfirm(email)
	s.post("/manage/link", url.Values{"email": {email}})
	subjects := map[string]int{}
	for _, m := range testenv.Mail(t, email) {
		subjects[m.Subject]++
	}
	for _, subject := range []string{"Confirm that you want to join Peer Groups", "You have joined Peer Groups", "Manage your Peer Groups membership"} {
		if subjects[subject] != 1 {
			t.Errorf("%d emails %q, want 1 (all: %v)", subjects[subject], subject, subjects)
		}
	}
}
