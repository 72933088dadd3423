package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// faultyMailer wraps the real mailer to die or dawdle on a chosen call.
type faultyMailer struct {
	inner   pg.BulkMailer
	mu      sync.Mutex
	calls   int
	crashAt int                // on this call, the run dies after claiming its batch
	crash   context.CancelFunc // what dies
	delay   time.Duration
	// On call slowAt, the call takes until slowUntil.
	slowAt    int
	slowUntil time.Time
}

func (m *faultyMailer) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	m.mu.Lock()
	m.calls++
	call := m.calls
	m.mu.Unlock()
	if call == m.crashAt && m.crash != nil {
		m.crash()
		return nil, context.Canceled
	}
	if call == m.slowAt {
		time.Sleep(time.Until(m.slowUntil))
	}
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	return m.inner.SendBulk(ctx, t, to)
}

func (m *faultyMailer) MaxSendRate(ctx context.Context) (float64, error) {
	return m.inner.MaxSendRate(ctx)
}

// In AWS, DynamoDB cancels a transaction that touches an item another transaction is
// writing (TransactionConflict). Four workers claiming and settling at once must
// neither lose a recipient nor send anyone two emails when that happens.
func TestTransactionsCancelledForConflictsAreRetriedAndEveryoneGetsOneEmail(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	proxy := testenv.NewConflictingDynamo(t, 3)
	a := f.announcerVia(t, nil, "", proxy.URL)
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatalf("a run with one transaction in three cancelled: %v", err)
	}
	if proxy.Cancelled() == 0 {
		t.Fatal("the proxy cancelled no transaction: the test proves nothing")
	}
	f.check(t)
}

// deferringMailer sends a batch's first recipients and answers for the others as SES
// does when it cannot take them just now (ACCOUNT_THROTTLED, TRANSIENT_FAILURE, the
// daily quota), for its first few calls.
type deferringMailer struct {
	inner pg.BulkMailer
	mu    sync.Mutex
	calls int
	times int // how many calls defer
}

func (m *deferringMailer) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	m.mu.Lock()
	m.calls++
	deferring := m.calls <= m.times && len(to) > 1
	m.mu.Unlock()
	if !deferring {
		return m.inner.SendBulk(ctx, t, to)
	}
	half := len(to) / 2
	results, err := m.inner.SendBulk(ctx, t, to[:half])
	if err != nil {
		return nil, err
	}
	statuses := []string{"ACCOUNT_THROTTLED", "TRANSIENT_FAILURE", "ACCOUNT_DAILY_QUOTA_EXCEEDED"}
	for i := half; i < len(to); i++ {
		results = append(results, pg.BulkResult{Error: statuses[i%3] + ": try again later (injected)", Later: true})
	}
	return results, nil
}

func (m *deferringMailer) MaxSendRate(ctx context.Context) (float64, error) {
	return m.inner.MaxSendRate(ctx)
}

func TestRecipientsSESCouldNotTakeJustNowAreSentLaterNotFailed(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	a := f.announcer(t, nil, "")
	mailer := &deferringMailer{inner: a.Mailer, times: 6}
	a.Mailer = mailer
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t) // everyone sent once, no row failed
}

// A run that leaves recipients deferred (the daily quota, say) ends unsettled, and the
// next run sends them without waiting for a lease.
func TestRecipientsStillDeferredAtTheEndOfARunGoWithTheNextRun(t *testing.T) {
	t.Parallel()
	f := newRound(t, 25)
	a := f.announcer(t, nil, "")
	mailer := &deferringMailer{inner: a.Mailer, times: 1000}
	a.Mailer, a.Workers = mailer, 1
	if err := a.Run(context.Background(), 1); !errors.Is(err, pg.ErrUnsettled) {
		t.Fatalf("a run whose recipients stayed deferred: %v, want ErrUnsettled", err)
	}
	pub := f.s.publication(1)
	if pub.Done || pub.Failed != 0 || pub.Left() == 0 {
		t.Fatalf("after the deferring run: %+v, want recipients left and none failed", pub)
	}
	mailer.times = 0 // SES takes them again
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}

// A run dies half-way; the stream delivers its trigger again until Lambda gives up
// (the dead run's recipients are held for a lease); nothing moves. The admin's round
// page says the round has stalled and what is left, and "Resume sending" sends the rest,
// nobody twice.
func TestAStalledRoundSaysSoAndResumingSendsTheRestOnce(t *testing.T) {
	t.Parallel()
	f := newRoundWith(t, 25, map[string]string{"STREAM": "on"})
	ctx, crash := context.WithCancel(context.Background())
	a := f.announcer(t, &faultyMailer{crashAt: 4, crash: crash}, "")
	a.Workers = 1
	if err := a.Run(ctx, 1); err == nil {
		t.Fatal("the run did not notice its crash")
	}
	a.Mailer = a.Mailer.(*faultyMailer).inner
	handler := &dynamostream.Handler{Announcer: a, Log: testenv.Logger(t), Pause: time.Millisecond}
	record := func(prefix string) events.DynamoDBEventRecord {
		t.Helper()
		awsCfg := testenv.AWSConfig(t)
		records, err := devstack.StreamRecords(context.Background(), app.NewClients(awsCfg).DynamoDB, dynamodbstreams.NewFromConfig(awsCfg), f.s.Table)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			if r.EventName == "INSERT" && strings.HasPrefix(r.Change.NewImage["sk"].String(), prefix) {
				return r
			}
		}
		t.Fatalf("no INSERT of %s on the stream", prefix)
		return events.DynamoDBEventRecord{}
	}
	publication := record("PUBLICATION")
	for range 5 { // the retries, until Lambda gives up
		resp, _ := handler.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{publication}})
		if len(resp.BatchItemFailures) != 1 {
			t.Fatalf("a retry within the dead run's lease: %+v, want the record reported failed", resp)
		}
	}
	pub := f.s.publication(1)
	if pub.Done || pub.Left() == 0 {
		t.Fatalf("after the crash and the retries: %+v, want some left", pub)
	}

	f.s.signIn(f.admin.Email)
	if page := f.s.get("/admin/rounds/1"); strings.Contains(page.Body, "Resume sending") || strings.Contains(page.Body, "Stalled") {
		t.Fatalf("the round is called stalled within a lease of its last move:\n%s", page.Body)
	}
	if r := f.s.post("/admin/rounds/1/resume", url.Values{}); r.Status != http.StatusConflict {
		t.Fatalf("resuming a round that is still moving: %d, want 409", r.Status)
	}
	reminders, err := announcing.NewReminders(f.s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	watch := func() []int {
		t.Helper()
		stalled, err := reminders.Stalled(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return stalled
	}
	if got := watch(); len(got) != 0 {
		t.Fatalf("the hourly watch calls rounds %v stalled within a lease of their last move", got)
	}
	f.s.Clock.Add(pg.SendingLease + time.Minute)
	if got := watch(); !slices.Equal(got, []int{1}) {
		t.Fatalf("the hourly watch (the alarm's metric) finds rounds %v stalled, want [1]", got)
	}
	page := f.s.get("/admin/rounds/1")
	mustContain(t, page.Body, "Stalled", fmt.Sprintf("Sending has stalled: %d of %d still to send", pub.Left(), pub.Total), "Resume sending")
	if page.Header.Get("Refresh") != "" {
		t.Error("the stalled round's page refreshes itself")
	}
	if r := f.s.post("/admin/rounds/1/resume", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("resume: %d\n%s", r.Status, r.Body)
	}
	resp, err := handler.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record("PUBLICATION#RESUME#")}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the resumed run: %+v %v", resp, err)
	}
	f.check(t)
	mustContain(t, f.s.get("/admin/rounds/1").Body, "All sent")
	if got := watch(); len(got) != 0 {
		t.Fatalf("the hourly watch calls rounds %v stalled after they were all sent", got)
	}
	if r := f.s.post("/admin/rounds/1/resume", url.Values{}); r.Status != http.StatusConflict {
		t.Fatalf("resuming a finished round: %d, want 409", r.Status)
	}
	mustContain(t, f.s.get("/admin/audit").Body, "resume sending")
}
