// Fault proxies: AWS failures the stand-ins cannot produce themselves.

package testenv

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/peergroups/peergroups/internal/devstack"
)

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
