package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// roundFixture is a published round: events for London and Midlands (not for South
// or Yorkshire), facilitators for every group, members in every group.
type roundFixture struct {
	s            *site
	admin        pg.Caller
	members      map[string][]string // group → addresses
	facilitators map[string]string   // group → address
	suppressed   string
	left         string
}

func newRound(t *testing.T, perGroup int) *roundFixture {
	t.Helper()
	return newRoundWith(t, perGroup, map[string]string{})
}

// newRoundWith is newRound on a site with extra configuration ("STREAM": "on" for a
// table with a stream).
func newRoundWith(t *testing.T, perGroup int, extra map[string]string) *roundFixture {
	t.Helper()
	admin := testenv.Address("admin")
	extra["ADMIN_EMAILS"], extra["SES_MAX_SEND_RATE"] = admin, "400"
	s := newSite(t, extra)
	ctx := context.Background()
	f := &roundFixture{s: s, admin: pg.Caller{Email: admin, Admin: true}, members: map[string][]string{}, facilitators: map[string]string{}}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, f.admin, pg.Round{Number: 1, Title: "Service assessments {{ and <b>you</b>", Summary: "How to prepare.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	for i, g := range []string{"london", "midlands"} {
		day := start.AddDate(0, 0, 7+i)
		e := pg.Event{Round: 1, GroupID: g, Start: day.Add(14 * time.Hour), End: day.Add(16*time.Hour + 30*time.Minute), Venue: g + " Town Hall", Address: "1 High Street", Capacity: 30, Note: "Bring a laptop."}
		if err := s.App.Services.Rounds.SetEvent(ctx, f.admin, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"london", "midlands", "south", "yorkshire"} {
		fac := testenv.Address("fac-" + g)
		if err := s.App.Stores.Network.SetRole(ctx, fac, pg.RoleFacilitator, g, true, pg.AuditEntry{At: time.Now(), Actor: admin, Action: "test"}); err != nil {
			t.Fatal(err)
		}
		f.facilitators[g] = fac
		for i := range perGroup {
			f.members[g] = append(f.members[g], s.addMember(t, g, fmt.Sprintf("Member %d of %s", i, g)))
		}
	}
	// One London member is suppressed, and one has left: neither may be sent to.
	f.suppressed = f.members["london"][0]
	if err := s.App.Stores.Announcements.Suppress(ctx, f.suppressed, "hard bounce", time.Now()); err != nil {
		t.Fatal(err)
	}
	f.left = s.addMember(t, "london", "Gone Away")
	person := s.person(f.left)
	if err := s.App.Stores.Memberships.SetGroups(ctx, person, nil, []string{"london"}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Services.Rounds.Publish(ctx, f.admin, 1); err != nil {
		t.Fatal(err)
	}
	return f
}

// addMember makes a confirmed member through the store's own sign-up and confirmation.
func (s *site) addMember(t *testing.T, group, name string) string {
	t.Helper()
	ctx := context.Background()
	email := testenv.Address("m")
	su := pg.Signup{Email: email, Profile: pg.Profile{Name: name}, Groups: []string{group}, Form: "join", NonceHash: "n", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	p := pg.Person{Email: email}
	if err := s.App.Stores.Memberships.SaveSignup(ctx, p, su, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Stores.Memberships.ConfirmSignup(ctx, p, su, time.Now()); err != nil {
		t.Fatal(err)
	}
	return email
}

func (f *roundFixture) announcer(t *testing.T, mailer pg.BulkMailer, sesEndpoint string) *announce.Announcer {
	t.Helper()
	return f.announcerVia(t, mailer, sesEndpoint, "")
}

// announcerVia is announcer with the SES and DynamoDB endpoints of fault proxies.
func (f *roundFixture) announcerVia(t *testing.T, mailer pg.BulkMailer, sesEndpoint, dynamoEndpoint string) *announce.Announcer {
	t.Helper()
	clients := mailing.NewClients(testenv.AWSConfig(t))
	if sesEndpoint != "" {
		clients.SES = sesv2.NewFromConfig(testenv.AWSConfig(t), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(sesEndpoint) })
	}
	if dynamoEndpoint != "" {
		clients.DynamoDB = dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(dynamoEndpoint)
			o.DisableValidateResponseChecksum = true
		})
	}
	a, err := announcing.New(f.s.Config, clients, testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if mailer != nil {
		inner := a.Mailer
		if m, ok := mailer.(*faultyMailer); ok {
			m.inner = inner
		}
		a.Mailer = mailer
	}
	a.Batch = 10                                                 // several batches per group, with few members
	a.Sleep = func(ctx context.Context, d time.Duration) error { // real waits, but short
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(d, 50*time.Millisecond)):
			return nil
		}
	}
	return a
}

// check asserts that every recipient got exactly one email of the round, with their
// group's details, and that nobody else did.
func (f *roundFixture) check(t *testing.T) {
	t.Helper()
	mail := testenv.MailByRecipient(t)
	count := func(addr, prefix string) (int, testenv.Email) {
		n, last := 0, testenv.Email{}
		for _, m := range mail[strings.ToLower(addr)] {
			if strings.HasPrefix(m.Subject, prefix) {
				n++
				last = m
			}
		}
		return n, last
	}
	for g, fac := range f.facilitators {
		n, m := count(fac, "Round 1 is published")
		if n != 1 {
			t.Errorf("facilitator of %s got %d briefs, want 1", g, n)
			continue
		}
		hasEvent := g == "london" || g == "midlands"
		if got := strings.Contains(m.Body.Text, "NO EVENT FOR THIS ROUND"); got == hasEvent {
			t.Errorf("the brief for %s says no event: %v, want %v", g, got, !hasEvent)
		}
	}
	for g, members := range f.members {
		for _, addr := range members {
			n, m := count(addr, "Round 1:")
			want := 1
			if g == "south" || g == "yorkshire" || addr == f.suppressed {
				want = 0
			}
			if n != want {
				t.Errorf("%s member %s got %d announcements, want %d", g, addr, n, want)
				continue
			}
			if n == 0 {
				continue
			}
			if !strings.Contains(m.Body.Text, g+" Town Hall") || !strings.Contains(m.Body.Text, "/rsvp?answer=going&token=") {
				t.Errorf("%s's announcement lacks their event or RSVP links:\n%s", addr, m.Body.Text)
			}
			if !strings.HasPrefix(m.Header("List-Unsubscribe"), "<"+f.s.URL+"/unsubscribe?token=") || m.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("%s's announcement has List-Unsubscribe %q", addr, m.Header("List-Unsubscribe"))
			}
		}
	}
	if n, _ := count(f.left, "Round 1:"); n != 0 {
		t.Errorf("a member who left got %d announcements", n)
	}
	pub, err := f.s.App.Stores.Rounds.Publication(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := f.s.App.Stores.Announcements.Ledger(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range ledger {
		if row.State != pg.LedgerSent && row.State != pg.LedgerSuppressed {
			t.Errorf("ledger row %v ended %q (%s)", row.LedgerID, row.State, row.Reason)
		}
		if row.State == pg.LedgerSent && row.MessageID == "" {
			t.Errorf("ledger row %v was sent with no message ID", row.LedgerID)
		}
	}
	want := 4 + 2*len(f.members["london"])
	if len(ledger) != want {
		t.Errorf("%d ledger rows, want one for each of %d recipients", len(ledger), want)
	}
	if !pub.Done || pub.Total != want || pub.Sent != want-1 || pub.Suppressed != 1 || pub.Failed != 0 {
		t.Errorf("publication %+v, want done with %d recipients, %d sent, 1 suppressed", pub, want, want-1)
	}
}

func TestPublishingARoundReachesEveryoneOnce(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	a := f.announcer(t, nil, "")
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
	m := testenv.LastMail(t, f.members["midlands"][3])
	if !strings.Contains(m.Body.HTML, "Hello Member 3 of midlands") {
		t.Errorf("the announcement is not addressed to its recipient:\n%s", m.Body.HTML)
	}
	if strings.Contains(m.Body.HTML, "<b>you</b>") || !strings.Contains(m.Body.HTML, "Service assessments {{ and &lt;b&gt;you&lt;/b&gt;</h1>") {
		t.Errorf("the round's title is not escaped, or its braces do not show as typed:\n%s", m.Body.HTML)
	}
}

func TestTheSameTriggerThreeTimesSendsOnce(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	a := f.announcer(t, nil, "")
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() { errs <- a.Run(context.Background(), 1) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, pg.ErrUnsettled) {
			t.Fatal(err)
		}
	}
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}

func TestThrottlingIsWaitedOutWithoutLosingAnyone(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	proxy := testenv.NewFaultySES(t)
	a := f.announcer(t, nil, proxy.URL)
	proxy.Throttle(7) // more than the SDK's own retries: the announcer backs off too
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}

func TestACrashInTheMiddleOfABatchIsContinuedByTheRedelivery(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	ctx, crash := context.WithCancel(context.Background())
	mailer := &faultyMailer{crashAt: 3, crash: crash}
	a := f.announcer(t, mailer, "")
	// One batch in flight: the crash is after its claim and before its send. (A process
	// that dies after SES accepted a batch and before the ledger records it would send
	// that batch again: the one window the ledger cannot close on its own.)
	a.Workers = 1
	if err := a.Run(ctx, 1); err == nil {
		t.Fatal("the run did not notice its crash")
	}
	pub := f.s.publication(1)
	if pub.Done {
		t.Fatal("a crashed run finished")
	}
	// The redelivery comes before the dead run's claims have expired: it leaves them.
	if err := a.Run(context.Background(), 1); !errors.Is(err, pg.ErrUnsettled) {
		t.Fatalf("a run within the lease: %v, want ErrUnsettled", err)
	}
	// After the lease, the next redelivery claims them again and finishes.
	f.s.Clock.Add(16 * time.Minute)
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}

func TestARunThatReachesItsDeadlineStopsAndTheNextContinues(t *testing.T) {
	// Not parallel: the run's deadline is real time, so it runs while no other test does.
	f := newRound(t, 25)
	// The run may start batches for 8 seconds (its deadline less its margin): plenty
	// for planning, however slow the machine. Its third call to SES takes until that
	// time has passed, so it stops after it, part-way through the round.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	margin := 22 * time.Second
	deadline, _ := ctx.Deadline()
	mailer := &faultyMailer{slowAt: 3, slowUntil: deadline.Add(-margin + 50*time.Millisecond)}
	a := f.announcer(t, mailer, "")
	a.Workers, a.Margin = 1, margin
	if err := a.Run(ctx, 1); !errors.Is(err, pg.ErrDeadline) {
		t.Fatalf("a run that reached its deadline's margin: %v, want ErrDeadline", err)
	}
	pub := f.s.publication(1)
	if pub.Done || pub.Settled() == 0 || pub.Settled() >= pub.Total {
		t.Fatalf("after the first run: %+v, want part sent", pub)
	}
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}
