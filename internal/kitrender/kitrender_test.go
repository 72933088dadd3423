package kitrender_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/peergroups/peergroups/internal/kitrender"
	"github.com/peergroups/peergroups/internal/peergroups/kitmarkdown"
)

var creds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "session"}

// lambdaAPI stands in for Lambda's Invoke API: it checks the request's path and its
// SigV4 signature (by signing the same request again with the same credentials and
// time), then runs the render function's code, unless fail says otherwise.
func lambdaAPI(t *testing.T, fail func(call int) (status int, functionError string)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/peergroups-render/invocations" {
			t.Errorf("%s %s, want POST /2015-03-31/functions/peergroups-render/invocations", r.Method, r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		if err := checkSignature(r, body); err != "" {
			t.Error(err)
			http.Error(w, err, http.StatusForbidden)
			return
		}
		if fail != nil {
			if status, fe := fail(n); status != 0 {
				if fe != "" {
					w.Header().Set("X-Amz-Function-Error", fe)
				}
				w.WriteHeader(status)
				io.WriteString(w, `{"errorMessage":"failed on purpose"}`)
				return
			}
		}
		var req kitrender.Request
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("request body: %v", err)
		}
		html, problems := kitmarkdown.RenderAll(req.Markdown)
		json.NewEncoder(w).Encode(kitrender.Response{HTML: html, Problems: problems})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func checkSignature(r *http.Request, body []byte) string {
	got := r.Header.Get("Authorization")
	if !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(got, "/eu-west-2/lambda/aws4_request") {
		return "Authorization " + got + " is not a SigV4 signature for lambda in eu-west-2"
	}
	if r.Header.Get("X-Amz-Security-Token") != "session" {
		return "no session token"
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "X-Amz-Date: " + err.Error()
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
	for _, h := range []string{"Content-Type", "X-Amz-Invocation-Type"} {
		again.Header.Set(h, r.Header.Get(h))
	}
	again.ContentLength = r.ContentLength
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, sha256Hex(body), "lambda", "eu-west-2", at); err != nil {
		return err.Error()
	}
	if again.Header.Get("Authorization") != got {
		return "the signature does not match the request:\n got " + got + "\nwant " + again.Header.Get("Authorization")
	}
	return ""
}

func client(srv *httptest.Server) *kitrender.Client {
	c := kitrender.New(aws.Config{Region: "eu-west-2", Credentials: credentials.StaticCredentialsProvider{Value: creds}}, "peergroups-render")
	c.Endpoint = srv.URL
	return c
}

func TestRenderMarkdownCallsTheRenderFunctionSigned(t *testing.T) {
	t.Parallel()
	srv, calls := lambdaAPI(t, nil)
	out, err := client(srv).RenderMarkdown(context.Background(), []string{"### Agenda\n\nBring *notes*.\n", "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || !strings.Contains(out[0].HTML, "<em>notes</em>") || strings.Contains(out[1].HTML, "<script") || strings.Contains(out[1].HTML, "javascript:") || out[2].HTML != "" {
		t.Fatalf("rendered %+v", out)
	}
	if len(out[0].Problems) != 0 || len(out[1].Problems) == 0 {
		t.Fatalf("accessibility errors: %q and %q, want none and the raw HTML", out[0].Problems, out[1].Problems)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

func TestRenderMarkdownTriesAgainWhenLambdaThrottlesOrTheFunctionFails(t *testing.T) {
	t.Parallel()
	srv, calls := lambdaAPI(t, func(n int) (int, string) {
		switch n {
		case 1:
			return http.StatusTooManyRequests, ""
		case 2:
			return http.StatusOK, "Unhandled"
		}
		return 0, ""
	})
	out, err := client(srv).RenderMarkdown(context.Background(), []string{"Hello\n"})
	if err != nil || len(out) != 1 || !strings.Contains(out[0].HTML, "Hello") {
		t.Fatalf("got %+v, %v; want the third call's answer", out, err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}
}

func TestRenderMarkdownSaysWhenItCannot(t *testing.T) {
	t.Parallel()
	srv, calls := lambdaAPI(t, func(int) (int, string) { return http.StatusOK, "Unhandled" })
	if _, err := client(srv).RenderMarkdown(context.Background(), []string{"Hello\n"}); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("got %v, want the function's failure", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3 tries", calls.Load())
	}
	refused, calls := lambdaAPI(t, func(int) (int, string) { return http.StatusForbidden, "" })
	if _, err := client(refused).RenderMarkdown(context.Background(), []string{"Hello\n"}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("got %v, want the refusal", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1: a refusal is not tried again", calls.Load())
	}
}

func TestRenderMarkdownSplitsWhatLambdaWouldRefuse(t *testing.T) {
	t.Parallel()
	srv, calls := lambdaAPI(t, nil)
	big := strings.Repeat("word ", 2<<20/5) + "\n" // 2 MB
	out, err := client(srv).RenderMarkdown(context.Background(), []string{big, big, big, "end\n"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 || !strings.Contains(out[3].HTML, "end") {
		t.Fatalf("got %d texts", len(out))
	}
	if calls.Load() < 2 {
		t.Fatalf("%d calls for 6 MB of text: each call must stay under Lambda's 6 MB", calls.Load())
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
