package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// share is the share of the send rate announcements leave for transactional mail, as
// TRANSACTIONAL_SHARE's default: the announcements go at rate × (1 − share).
const share = 0.1

// fanoutEnv is a table of members across the four groups and the service over it.
type fanoutEnv struct {
	cfg     app.Config
	awsCfg  aws.Config
	clients mailing.Clients
	counter *counter
	svc     *website.App
	store   *dynamo.Store
	members map[string]int // group → how many members
}

var fanoutGroups = []string{"london", "midlands", "yorkshire", "south"}

// newFanoutEnv makes a fresh table with recipients members spread over the four groups.
func newFanoutEnv(ctx context.Context, recipients int, rate float64, apiOptions ...func(*middleware.Stack) error) (*fanoutEnv, error) {
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return nil, err
	}
	e := &fanoutEnv{awsCfg: awsCfg, counter: &counter{n: requests{}}, members: map[string]int{}}
	awsCfg.APIOptions = append(append(awsCfg.APIOptions, e.counter.middleware), apiOptions...)
	e.clients = mailing.NewClients(awsCfg)
	e.cfg, err = app.LoadConfig(func(name string) string {
		return map[string]string{
			"TABLE_NAME": "fanout-" + randomHex(4), "BASE_URL": "https://peergroups.example.org",
			"LINK_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "SES_MAX_SEND_RATE": fmt.Sprint(rate),
			"TRANSACTIONAL_SHARE": fmt.Sprint(share),
		}[name]
	})
	if err != nil {
		return nil, err
	}
	if err := devstack.Prepare(ctx, e.clients.DynamoDB, nil, e.cfg.TableName, false); err != nil {
		return nil, err
	}
	e.store = dynamo.New(e.clients.DynamoDB, e.cfg.TableName)
	progress("fan-out: import %d members", recipients)
	for i, g := range fanoutGroups {
		n := recipients / len(fanoutGroups)
		if i < recipients%len(fanoutGroups) {
			n++
		}
		e.members[g] = n
		for start := 0; start < n; start += 5000 { // in slices, so the import stays small
			members := make([]pg.MemberRow, min(5000, n-start))
			for j := range members {
				members[j] = pg.MemberRow{Email: fmt.Sprintf("m%d-%s@bench.example.org", start+j, g), Name: fmt.Sprintf("Member %d", start+j)}
			}
			if err := dynamo.Capabilities(e.store).Members.ImportMembers(ctx, g, members, time.Now()); err != nil {
				return nil, err
			}
		}
	}
	e.svc, err = website.New(e.cfg, e.clients.Clients, quietLogger())
	if err != nil {
		return nil, err
	}
	return e, nil
}

// publish creates round n with an event for every group, and publishes it.
func (e *fanoutEnv) publish(ctx context.Context, n int) error {
	admin := pg.Caller{Email: "admin@bench.example.org", Admin: true}
	start := benchEventStart().Add(-14 * time.Hour)
	if err := e.svc.Services.Rounds.CreateRound(ctx, admin, pg.Round{Number: n, Title: "Bench", Summary: "Fan-out.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		return err
	}
	for _, g := range fanoutGroups {
		ev := pg.Event{Round: n, GroupID: g, Start: start.Add(14 * time.Hour), End: start.Add(16 * time.Hour), Venue: "Town Hall", Capacity: 100}
		if err := e.svc.Services.Rounds.SetEvent(ctx, admin, ev); err != nil {
			return err
		}
	}
	return e.svc.Services.Rounds.Publish(ctx, admin, n)
}

// fanout publishes a round to recipients members across the four groups against the
// SES stand-in at a fixed maximum rate, and measures it; then publishes a second round
// with faults injected (throttling from SES, transactions cancelled by DynamoDB, a
// crash, redeliveries) and counts duplicates and losses.
func fanout(ctx context.Context, out io.Writer, recipients int, rate float64) error {
	e, err := newFanoutEnv(ctx, recipients, rate)
	if err != nil {
		return err
	}
	log := quietLogger()
	store2 := os.Getenv("PEERGROUPS_SES_STORE")
	if err := clearStore(store2); err != nil {
		return err
	}

	// The measured run.
	if err := e.publish(ctx, 1); err != nil {
		return err
	}
	announcer, err := announcing.New(e.cfg, e.clients, log)
	if err != nil {
		return err
	}
	announceRate := rate * (1 - share)
	e.counter.take()
	progress("fan-out: round 1 to %d members at %.0f a second (%.0f less a tenth for transactional mail)", recipients, announceRate, rate)
	resetPeakRSS()
	began := time.Now()
	if err := announcer.Run(ctx, 1); err != nil {
		return fmt.Errorf("fan-out: %w", err)
	}
	took := time.Since(began)
	rss := peakRSS()
	calls, spans := e.counter.takeSpans()
	sent, err := sentPerSecond(ctx, store2, "Round 1:")
	if err != nil {
		return err
	}
	bulk := calls[opKey{"SESv2", "SendBulkEmail"}]
	total := 0
	maxSecond := 0
	for _, n := range sent.perSecond {
		total += n
		maxSecond = max(maxSecond, n)
	}
	figure(out, "fanout.recipients", fmt.Sprint(total))
	figure(out, "fanout.ses_max_rate", fmt.Sprintf("%.0f", rate))
	figure(out, "fanout.max_rate", fmt.Sprintf("%.0f", announceRate))
	figure(out, "fanout.ses_calls", fmt.Sprint(bulk))
	figure(out, "fanout.recipients_per_call", fmt.Sprintf("%.1f", float64(total)/float64(max(bulk, 1))))
	figure(out, "fanout.rate_share", fmt.Sprintf("%.3f", float64(total)/took.Seconds()/announceRate))
	figure(out, "fanout.max_in_one_second", fmt.Sprint(maxSecond))
	figure(out, "fanout.seconds", fmt.Sprintf("%.1f", took.Seconds()))
	// Where the run's time went: before the first call to SES (reading the round and
	// counting the members), the calls, and after the last (the settles, finishing).
	if sp, ok := spans[opKey{"SESv2", "SendBulkEmail"}]; ok {
		sending := sp.last.Sub(sp.first)
		figure(out, "fanout.first_send_after_s", fmt.Sprintf("%.2f", sp.first.Sub(began).Seconds()))
		figure(out, "fanout.after_last_send_s", fmt.Sprintf("%.2f", began.Add(took).Sub(sp.last).Seconds()))
		figure(out, "fanout.sending_rate_share", fmt.Sprintf("%.3f", float64(total)/sending.Seconds()/announceRate))
	}
	figure(out, "fanout.peak_rss_mb", fmt.Sprintf("%.1f", float64(rss)/(1<<20)))
	figure(out, "fanout.dynamodb_requests", fmt.Sprint(calls.service("DynamoDB")))

	// The run with faults: throttling from SES, one transaction in five cancelled by
	// DynamoDB for a conflict, a crash after a third of the batches, the trigger
	// delivered three times, and redeliveries until done.
	if err := e.publish(ctx, 2); err != nil {
		return err
	}
	proxy, err := newThrottlingProxy(strings.TrimSuffix(store2, "/store"), 20)
	if err != nil {
		return err
	}
	defer proxy.Close()
	conflicts, err := devstack.NewConflictProxy(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), 5, 0)
	if err != nil {
		return err
	}
	defer conflicts.Close()
	faulty, err := announcing.New(e.cfg, mailing.Clients{
		Clients: app.Clients{DynamoDB: dynamodb.NewFromConfig(e.awsCfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(conflicts.URL)
			o.DisableValidateResponseChecksum = true
		})},
		SES: sesv2.NewFromConfig(e.awsCfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(proxy.URL) }),
	}, log)
	if err != nil {
		return err
	}
	crashCtx, crash := context.WithCancel(ctx)
	faulty.Mailer = &crashingMailer{BulkMailer: faulty.Mailer, at: recipients / 50 / 3, crash: crash}
	faulty.Lease = 3 * time.Second // the redelivery comes after the dead run's lease
	progress("fan-out: round 2 with faults")
	if err := faulty.Run(crashCtx, 2); err == nil {
		return errors.New("fan-out: the crashed run did not notice its crash")
	}
	time.Sleep(faulty.Lease + 100*time.Millisecond)
	// The trigger delivered three times, one after another, as the stream redelivers.
	for range 3 {
		faulty.Run(ctx, 2)
	}
	for attempt := 0; ; attempt++ {
		err := faulty.Run(ctx, 2)
		if err == nil {
			break
		}
		if attempt > 20 {
			return fmt.Errorf("fan-out with faults did not finish: %w", err)
		}
		time.Sleep(faulty.Lease)
	}
	counts, err := sentPerSecond(ctx, store2, "Round 2:")
	if err != nil {
		return err
	}
	duplicates, lost := 0, 0
	for _, g := range fanoutGroups {
		for j := range e.members[g] {
			switch c := counts.perRecipient[fmt.Sprintf("m%d-%s@bench.example.org", j, g)]; {
			case c == 0:
				lost++
			case c > 1:
				duplicates += c - 1
			}
		}
	}
	figure(out, "fanout.faults.throttled_requests", fmt.Sprint(proxy.throttled()))
	figure(out, "fanout.faults.conflicts", fmt.Sprint(conflicts.Cancelled()))
	figure(out, "fanout.faults.duplicates", fmt.Sprint(duplicates))
	figure(out, "fanout.faults.lost", fmt.Sprint(lost))
	return clearStore(store2)
}

// fanoutMemory announces a round to recipients members and measures only the peak
// memory of the run (the import before it is not counted): memory must not grow with
// the round.
func fanoutMemory(ctx context.Context, out io.Writer, name string, recipients int, rate float64) error {
	e, err := newFanoutEnv(ctx, recipients, rate)
	if err != nil {
		return err
	}
	if err := e.publish(ctx, 1); err != nil {
		return err
	}
	announcer, err := announcing.New(e.cfg, e.clients, quietLogger())
	if err != nil {
		return err
	}
	progress("fan-out: round 1 to %d members at %.0f a second, for its memory", recipients, rate*(1-share))
	runtime.GC()
	resetPeakRSS()
	began := time.Now()
	if err := announcer.Run(ctx, 1); err != nil {
		return fmt.Errorf("fan-out of %d: %w", recipients, err)
	}
	figure(out, name+".recipients", fmt.Sprint(recipients))
	figure(out, name+".seconds", fmt.Sprintf("%.1f", time.Since(began).Seconds()))
	figure(out, name+".peak_rss_mb", fmt.Sprintf("%.1f", float64(peakRSS())/(1<<20)))
	return clearStore(os.Getenv("PEERGROUPS_SES_STORE"))
}

// crashingMailer cancels its run on one call, after the batch was claimed and before
// it was sent.
type crashingMailer struct {
	pg.BulkMailer
	mu    sync.Mutex
	calls int
	at    int
	crash context.CancelFunc
}

func (m *crashingMailer) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	m.mu.Lock()
	m.calls++
	crash := m.calls == m.at
	m.mu.Unlock()
	if crash {
		m.crash()
		return nil, context.Canceled
	}
	return m.BulkMailer.SendBulk(ctx, t, to)
}

type sentMail struct {
	perSecond    map[int64]int
	perRecipient map[string]int
}

// sentPerSecond counts the stand-in's emails whose subject starts with prefix, by the
// second they arrived and by recipient.
func sentPerSecond(ctx context.Context, store, prefix string) (sentMail, error) {
	all, err := devstack.SentMail(ctx, store)
	if err != nil {
		return sentMail{}, err
	}
	s := sentMail{perSecond: map[int64]int{}, perRecipient: map[string]int{}}
	for _, e := range all {
		if !strings.HasPrefix(e.Subject, prefix) {
			continue
		}
		s.perSecond[e.At]++
		for _, to := range e.Destination.To {
			s.perRecipient[to]++
		}
	}
	return s, nil
}

func clearStore(store string) error {
	resp, err := http.Post(strings.TrimSuffix(store, "/store")+"/clear-store", "application/json", nil)
	if err != nil {
		return fmt.Errorf("clear the SES stand-in: %w", err)
	}
	resp.Body.Close()
	return nil
}

// resetPeakRSS starts the peak resident memory (VmHWM) again from the memory in use now
// (Linux: writing 5 to /proc/self/clear_refs), so that a run's peak excludes what came
// before it.
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns the process's peak resident memory (VmHWM), in bytes.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.Sys)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// throttlingProxy stands in front of the SES stand-in and answers 429 Too Many
// Requests to every seventh request, up to a number of times.
type throttlingProxy struct {
	*httptest.Server
	mu    sync.Mutex
	seen  int
	done  int
	limit int
}

func newThrottlingProxy(target string, limit int) (*throttlingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &throttlingProxy{limit: limit}
	proxy := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen++
		throttle := p.seen%7 == 3 && p.done < p.limit
		if throttle {
			p.done++
		}
		p.mu.Unlock()
		if throttle {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Maximum sending rate exceeded (injected)"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	return p, nil
}

func (p *throttlingProxy) throttled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// benchEventStart is when the bench's rounds' events start: 2 pm, a week from today.
func benchEventStart() time.Time {
	return time.Now().In(pg.London).Truncate(24*time.Hour).AddDate(0, 0, 7).Add(14 * time.Hour)
}
