// The mail a test sent: the outbox followers that send it, and reading it back from
// the SES stand-in.

package testenv

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

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

// Email is a message as the SES stand-in recorded it.
type Email = devstack.Email

// Outbox runs the outbox function's handler on a table's stream (the table must have
// one) until the test ends, as Lambda does, and makes Mail, LastMail and
// MailByRecipient wait until it has caught up. clients reach SES as the outbox should
// (through a faulty proxy, say); now is the clock of the service that made the links.
func Outbox(t testing.TB, cfg app.Config, clients mailing.Clients, now func() time.Time, o OutboxOptions) *devstack.Follower {
	t.Helper()
	sender, err := mailing.NewOutbox(cfg, clients, Logger(t), app.WithClock(now))
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
