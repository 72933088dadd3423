// Package testenv gives integration tests the local stand-ins that `make test`
// starts (see internal/cmd/withstack): a fresh table each, the composed service, and
// the SES stand-in's store of sent mail.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

// Require skips the test when the stand-ins are not running, except in CI, where it
// fails: there, a skipped integration test would hide a broken set-up.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("PEERGROUPS_STACK") == "1" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the local stand-ins are not running: run the tests with `make test`")
	}
	t.Skip("needs the local stand-ins: run `make test`")
}

// Root returns the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AWSConfig returns the SDK configuration pointing at the stand-ins.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	Require(t)
	cfg, err := app.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Table creates a fresh, seeded table for one test and deletes it afterwards.
func Table(t testing.TB, db *dynamodb.Client) string { return table(t, db, false) }

// TableWithStream is Table with the table's stream on: slower in DynamoDB Local, so
// only for the tests of the stream.
func TableWithStream(t testing.TB, db *dynamodb.Client) string { return table(t, db, true) }

func table(t testing.TB, db *dynamodb.Client, stream bool) string {
	t.Helper()
	name := "test-" + strings.ToLower(RandomID())
	ctx := context.Background()
	started(t)
	if err := devstack.PrepareTest(ctx, db, name, stream); err != nil {
		t.Fatalf("prepare table: %v", err)
	}
	t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	t.Cleanup(func() {
		db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(dynamo.AuditTableName(name))})
	})
	return name
}

// starts holds, for each test that made a table, the Unix second before it did: none
// of its mail is older, so reading the SES stand-in's store (which holds every test's
// mail, megabytes by the end) asks only for what is newer.
var starts struct {
	sync.Mutex
	m map[string]int64
}

func started(t testing.TB) {
	starts.Lock()
	defer starts.Unlock()
	if starts.m == nil {
		starts.m = map[string]int64{}
	}
	if _, ok := starts.m[t.Name()]; !ok {
		starts.m[t.Name()] = time.Now().Unix() - 1
		t.Cleanup(func() {
			starts.Lock()
			defer starts.Unlock()
			delete(starts.m, t.Name())
		})
	}
}

// sentMail returns the mail the SES stand-in holds that the test (or its parent or
// subtests) may have sent: all of it when the test made no table.
func sentMail(t testing.TB) []Email {
	t.Helper()
	starts.Lock()
	since := int64(-1)
	for name, at := range starts.m {
		if sameTest(name, t.Name()) && (since < 0 || at < since) {
			since = at
		}
	}
	starts.Unlock()
	store := os.Getenv("PEERGROUPS_SES_STORE")
	if since >= 0 {
		store += "?since=" + strconv.FormatInt(since, 10)
	}
	all, err := devstack.SentMail(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// RandomID returns a short random identifier.
func RandomID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return strings.NewReplacer("-", "x", "_", "y").Replace(base64.RawURLEncoding.EncodeToString(b))
}

// Address returns a fresh email address, so that tests sharing the SES stand-in
// never read each other's mail.
func Address(prefix string) string {
	return prefix + "-" + strings.ToLower(RandomID()) + "@example.org"
}

// Config returns a configuration for a fresh table.
func Config(t testing.TB, table, baseURL string, extra map[string]string) app.Config {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{
		"TABLE_NAME": table,
		"BASE_URL":   baseURL,
		"LINK_KEY":   base64.StdEncoding.EncodeToString(key),
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Logger returns a logger that writes to the test's log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Email is a message as the SES stand-in recorded it.
type Email = devstack.Email

// Outbox runs the outbox function's handler on a table's stream (the table must have
// one) until the test ends, as Lambda does, and makes Mail, LastMail and
// MailByRecipient wait until it has caught up. clients reach SES as the outbox should
// (through a faulty proxy, say); now is the clock of the service that made the links.
func Outbox(t testing.TB, cfg app.Config, clients app.Clients, now func() time.Time, o OutboxOptions) *devstack.Follower {
	t.Helper()
	sender, err := app.NewOutbox(cfg, clients, Logger(t), app.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	sender.RetryPause = 0 // the follower pauses between deliveries
	sender.Lease = o.Lease
	handle := (&dynamostream.OutboxHandler{Outbox: sender, Log: Logger(t)}).Handle
	if o.Wrap != nil {
		handle = o.Wrap(handle)
	}
	f := &devstack.Follower{
		DB: clients.DynamoDB, Streams: dynamodbstreams.NewFromConfig(AWSConfig(t)), Table: cfg.TableName,
		Handle: handle, Log: Logger(t), RetryPause: 500 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("following the stream of %s: %v", cfg.TableName, err)
		}
	}()
	outboxes.Lock()
	outboxes.list = append(outboxes.list, outbox{f, t.Name()})
	outboxes.Unlock()
	t.Cleanup(func() {
		outboxes.Lock()
		outboxes.list = slices.DeleteFunc(outboxes.list, func(x outbox) bool { return x.f == f })
		outboxes.Unlock()
		cancel()
		<-done
	})
	return f
}

// OutboxOptions change the outbox function a test runs.
type OutboxOptions struct {
	Lease time.Duration // how long a claim holds an item; 0 for the function's default
	// Wrap wraps the handler, to crash it or deliver records twice.
	Wrap func(devstack.StreamHandler) devstack.StreamHandler
}

// outboxes are the outbox followers of the tests running now.
var outboxes struct {
	sync.Mutex
	list []outbox
}

// outbox is a follower and the test that started it.
type outbox struct {
	f    *devstack.Follower
	test string
}

// sameTest reports whether two test names are one test or a test and its subtest, so
// that a test waits only for its own outboxes, not for those of tests running beside it.
func sameTest(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// OutboxTimeout bounds how long reading mail waits for the outbox to catch up.
const OutboxTimeout = 30 * time.Second

// WaitForOutbox waits until every outbox follower of the test (or of its parent or
// subtests) has delivered what was written before the call, or has a failed record
// waiting to be tried again.
func WaitForOutbox(t testing.TB) {
	t.Helper()
	outboxes.Lock()
	var list []*devstack.Follower
	for _, o := range outboxes.list {
		if sameTest(o.test, t.Name()) {
			list = append(list, o.f)
		}
	}
	outboxes.Unlock()
	for _, f := range list {
		if !f.CaughtUp(OutboxTimeout) {
			t.Logf("the outbox did not catch up within %s", OutboxTimeout)
		}
	}
}

// MailEventually waits (up to OutboxTimeout) until an address has at least n emails,
// and returns them: for mail the outbox tries again after a failure.
func MailEventually(t testing.TB, to string, n int) []Email {
	t.Helper()
	deadline := time.Now().Add(OutboxTimeout)
	for {
		mail := Mail(t, to)
		if len(mail) >= n || time.Now().After(deadline) {
			return mail
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Mail returns every email sent to an address, oldest first, once the outbox has
// caught up.
func Mail(t testing.TB, to string) []Email {
	t.Helper()
	WaitForOutbox(t)
	all := sentMail(t)
	var out []Email
	for _, e := range all {
		if e.SentTo(to) {
			out = append(out, e)
		}
	}
	return out
}

// MailByRecipient returns every email sent so far, by lower-cased recipient: one read
// of the SES stand-in's store for tests that check many addresses.
func MailByRecipient(t testing.TB) map[string][]Email {
	t.Helper()
	WaitForOutbox(t)
	all := sentMail(t)
	out := map[string][]Email{}
	for _, e := range all {
		for _, to := range e.Destination.To {
			out[strings.ToLower(to)] = append(out[strings.ToLower(to)], e)
		}
	}
	return out
}

// LastMail returns the newest email sent to an address, failing if there is none.
func LastMail(t testing.TB, to string) Email {
	t.Helper()
	mail := Mail(t, to)
	if len(mail) == 0 {
		t.Fatalf("no email was sent to %s", to)
	}
	return mail[len(mail)-1]
}

// Link returns the first link in text whose path starts with path.
func Link(t testing.TB, text, path string) string {
	t.Helper()
	for _, field := range strings.Fields(text) {
		if i := strings.Index(field, path+"?token="); i >= 0 && strings.HasPrefix(field, "http") {
			return field
		}
	}
	t.Fatalf("no %s link in:\n%s", path, text)
	return ""
}

// Clock is a clock tests can move, safe for use by the server's goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at now.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// FaultySES is a proxy in front of the SES stand-in that fails on demand.
type FaultySES struct {
	URL string

	mu       sync.Mutex
	fail     int // how many more requests to fail
	status   int // how they fail
	requests int
}

// NewFaultySES starts a proxy to the SES stand-in for the length of the test.
func NewFaultySES(t testing.TB) *FaultySES {
	t.Helper()
	target, err := url.Parse(strings.TrimSuffix(os.Getenv("PEERGROUPS_SES_STORE"), "/store"))
	if err != nil || target.Host == "" {
		t.Fatal("no SES stand-in: run the tests with `make test`")
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &FaultySES{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		failing := f.fail > 0
		if failing {
			f.fail--
		}
		f.mu.Unlock()
		if !failing {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		f.mu.Lock()
		status := f.status
		f.mu.Unlock()
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"message":"Service unavailable (injected)"}`))
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Fail makes the next n requests fail without reaching SES.
func (f *FaultySES) Fail(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = n
}

// Throttle makes the next n requests fail with 429 Too Many Requests, as SES does
// when sending faster than the account's rate.
func (f *FaultySES) Throttle(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.status = n, http.StatusTooManyRequests
}

// Requests returns how many requests reached the proxy.
func (f *FaultySES) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// NewConflictingDynamo starts a proxy in front of DynamoDB Local, for the length of the
// test, that cancels every n-th TransactWriteItems with TransactionConflict, as
// DynamoDB does when transactions touch the same item at once.
func NewConflictingDynamo(t testing.TB, every int) *devstack.ConflictProxy {
	t.Helper()
	Require(t)
	p, err := devstack.NewConflictProxy(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), every, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Bucket creates a fresh bucket in the S3 stand-in for one test.
func Bucket(t testing.TB, client *s3.Client) string {
	t.Helper()
	name := "test-" + strings.ToLower(RandomID())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}
