// Package testenv gives integration tests the local stand-ins that `make test`
// starts (see internal/cmd/withstack): a fresh table each, the composed service, and
// the SES stand-in's store of sent mail.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
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
	cfg, err := app.AWSConfig()
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

// Bucket creates a fresh bucket in the S3 stand-in for one test.
func Bucket(t testing.TB, client *s3.Client) string {
	t.Helper()
	name := "test-" + strings.ToLower(RandomID())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}
