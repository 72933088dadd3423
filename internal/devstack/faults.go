package devstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// ConflictProxy stands in front of DynamoDB Local and cancels a share of the
// TransactWriteItems requests that pass through it, answering exactly as DynamoDB does
// when another transaction is writing one of the same items: HTTP 400 with a
// TransactionCanceledException whose reason for one item is TransactionConflict, and
// nothing written. DynamoDB Local never produces this itself (it serialises
// transactions), so tests and the bench put this proxy in its way.
type ConflictProxy struct {
	URL string

	srv       *http.Server
	mu        sync.Mutex
	every     int // cancel one transaction in every this many
	limit     int // and at most this many in all (0: no limit)
	seen      int
	cancelled int
}

// NewConflictProxy starts a proxy on 127.0.0.1 to the DynamoDB endpoint target that
// cancels every n-th TransactWriteItems request, at most limit times (0 for no limit).
func NewConflictProxy(target string, every, limit int) (*ConflictProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("conflict proxy: bad DynamoDB endpoint %q", target)
	}
	if every < 1 {
		return nil, fmt.Errorf("conflict proxy: every must be at least 1, not %d", every)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("conflict proxy: %w", err)
	}
	p := &ConflictProxy{URL: "http://" + ln.Addr().String(), every: every, limit: limit}
	forward := httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
			forward.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ TransactItems []json.RawMessage }
		if json.Unmarshal(body, &in) != nil || len(in.TransactItems) == 0 || !p.take() {
			forward.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(conflictBody(len(in.TransactItems)))
	})}
	go p.srv.Serve(ln)
	return p, nil
}

// take counts a transaction and says whether to cancel it.
func (p *ConflictProxy) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen++
	if p.seen%p.every != 0 || (p.limit > 0 && p.cancelled >= p.limit) {
		return false
	}
	p.cancelled++
	return true
}

// conflictBody is DynamoDB's answer to a transaction of n items cancelled because the
// last of them is being written by another transaction.
func conflictBody(n int) []byte {
	type reason struct {
		Code    string
		Message string `json:",omitempty"`
	}
	reasons := make([]reason, n)
	codes := make([]string, n)
	for i := range reasons {
		reasons[i], codes[i] = reason{Code: "None"}, "None"
	}
	reasons[n-1] = reason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}
	codes[n-1] = "TransactionConflict"
	body, _ := json.Marshal(struct {
		Type                string `json:"__type"`
		Message             string
		CancellationReasons []reason
	}{
		Type:                "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		Message:             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		CancellationReasons: reasons,
	})
	return body
}

// Cancelled returns how many transactions the proxy has cancelled.
func (p *ConflictProxy) Cancelled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cancelled
}

// Close stops the proxy.
func (p *ConflictProxy) Close() error { return p.srv.Close() }
