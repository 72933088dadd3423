package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

// opKey names one API operation of one service.
type opKey struct{ Service, Operation string }

// requests is how many requests were sent, by operation.
type requests map[opKey]int

// service returns the requests sent to one service (its SDK service ID).
func (r requests) service(id string) int {
	n := 0
	for k, v := range r {
		if k.Service == id {
			n += v
		}
	}
	return n
}

type opCount struct {
	key string // "dynamodb.GetItem"
	n   int
}

// sorted returns the count of each operation, by service then operation.
func (r requests) sorted() []opCount {
	var out []opCount
	for k, v := range r {
		out = append(out, opCount{strings.ToLower(k.Service) + "." + k.Operation, v})
	}
	slices.SortFunc(out, func(a, b opCount) int { return strings.Compare(a.key, b.key) })
	return out
}

// counter counts the requests the SDK sends. It sits after the retry middleware, so
// each attempt counts. It also notes when each operation was first sent and last
// answered.
type counter struct {
	mu    sync.Mutex
	n     requests
	spans map[opKey]span
}

// span is when an operation's first request began and its last answer came.
type span struct{ first, last time.Time }

func (c *counter) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("BenchCountRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			key := opKey{awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)}
			began := time.Now()
			c.mu.Lock()
			c.n[key]++
			c.mu.Unlock()
			out, meta, err := next.HandleFinalize(ctx, in)
			ended := time.Now()
			c.mu.Lock()
			if c.spans == nil {
				c.spans = map[opKey]span{}
			}
			sp, seen := c.spans[key]
			if !seen || began.Before(sp.first) {
				sp.first = began
			}
			if ended.After(sp.last) {
				sp.last = ended
			}
			c.spans[key] = sp
			c.mu.Unlock()
			return out, meta, err
		}), middleware.After)
}

// take returns the counts so far and starts again from zero.
func (c *counter) take() requests {
	n, _ := c.takeSpans()
	return n
}

// takeSpans is take with when each operation was first sent and last answered.
func (c *counter) takeSpans() (requests, map[opKey]span) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, spans := c.n, c.spans
	c.n, c.spans = requests{}, nil
	return n, spans
}

// journey is what one sign-up and its confirmation sent to AWS.
type journey struct {
	signup, confirm requests
	// web is what the web function's requests of one sign-up and its confirmation used,
	// in requests of webRequests pages and webSeconds; outbox what sending its emails
	// (the confirmation and the welcome) used.
	web, outbox usage
	webRequests int
	webSeconds  float64
}

// countJourney composes the real service against the stand-ins, with every AWS request
// counted, and goes through a sign-up and its confirmation as a browser would.
func countJourney(ctx context.Context) (journey, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	progress("count the requests of a sign-up and a confirmation")
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return journey{}, fmt.Errorf("make link key: %w", err)
	}
	vars := map[string]string{
		"LINK_KEY":   base64.StdEncoding.EncodeToString(key),
		"TABLE_NAME": "bench-" + randomHex(4),
		"BASE_URL":   "http://127.0.0.1",
	}
	cfg, err := app.LoadConfig(func(name string) string { return vars[name] })
	if err != nil {
		return journey{}, err
	}
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return journey{}, err
	}
	// The outbox function sends the emails from the table's stream, with clients of its
	// own: only the web function's requests are counted.
	outboxMeter, webMeter := &meter{}, &meter{}
	outboxCfg := awsCfg.Copy()
	outboxCfg.APIOptions = append(outboxCfg.APIOptions, outboxMeter.middleware)
	outboxClients := mailing.NewClients(outboxCfg)
	count := &counter{n: requests{}}
	awsCfg.APIOptions = append(awsCfg.APIOptions, count.middleware, webMeter.middleware)
	clients := app.NewClients(awsCfg)
	if err := devstack.Prepare(ctx, clients.DynamoDB, nil, cfg.TableName, true); err != nil {
		return journey{}, fmt.Errorf("prepare table: %w", err)
	}
	defer clients.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(cfg.TableName)})
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sender, err := mailing.NewOutbox(cfg, outboxClients, log)
	if err != nil {
		return journey{}, err
	}
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go devstack.FollowStream(followCtx, outboxClients.DynamoDB, dynamodbstreams.NewFromConfig(awsCfg.Copy()), cfg.TableName,
		(&dynamostream.OutboxHandler{Outbox: sender, Log: log}).Handle, log)
	a, err := website.New(cfg, clients, log)
	if err != nil {
		return journey{}, err
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	b, err := newBrowser(srv.URL, os.Getenv("PEERGROUPS_SES_STORE"))
	if err != nil {
		return journey{}, err
	}

	if err := b.open(ctx); err != nil {
		return journey{}, err
	}
	// A whole journey first, so that the group list is cached as in a warm instance.
	warm := "bench-warm-" + randomHex(4) + "@example.org"
	if err := b.signUpAndConfirm(ctx, warm); err != nil {
		return journey{}, fmt.Errorf("warm-up: %w", err)
	}

	var j journey
	email := "bench-" + randomHex(4) + "@example.org"
	if err := b.waitForEmails(ctx, outboxMeter, 2); err != nil { // the warm-up's
		return journey{}, err
	}
	count.take()
	outboxMeter.take()
	webMeter.take()
	b.requests = 0
	began := time.Now()
	if err := b.signUp(ctx, email); err != nil {
		return journey{}, err
	}
	j.webSeconds = time.Since(began).Seconds()
	j.signup = count.take()
	token, err := b.confirmToken(ctx, email)
	if err != nil {
		return journey{}, err
	}
	count.take()
	began = time.Now()
	if err := b.confirm(ctx, token); err != nil {
		return journey{}, err
	}
	j.webSeconds += time.Since(began).Seconds()
	j.confirm = count.take()
	j.web, j.webRequests = webMeter.take(), b.requests
	if err := b.waitForEmails(ctx, outboxMeter, 2); err != nil { // the confirmation and the welcome
		return journey{}, err
	}
	j.outbox = outboxMeter.take()
	return j, nil
}

// browser goes through the service's pages with cookies, as a person would, and reads
// the mail the SES stand-in received.
type browser struct {
	base     string // the service
	store    string // the SES stand-in's store of sent mail
	client   *http.Client
	requests int // the requests made, as Lambda invocations of the web function
}

// waitForEmails waits until the outbox has sent n emails since the meter was last
// taken (at most 30 seconds).
func (b *browser) waitForEmails(ctx context.Context, m *meter, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		m.mu.Lock()
		sent := m.u.Emails
		m.mu.Unlock()
		switch {
		case sent >= n:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("the outbox sent %d emails in 30 seconds, want %d", sent, n)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newBrowser(base, store string) (*browser, error) {
	if store == "" {
		return nil, fmt.Errorf("PEERGROUPS_SES_STORE is not set: run the bench with `make bench`")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &browser{base: base, store: store, client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		// Redirects are checked, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// open opens the first page of the form, as a person would.
func (b *browser) open(ctx context.Context) error {
	status, _, _, err := b.do(ctx, http.MethodGet, "/join", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET /join: status %d", status)
	}
	return nil
}

// signUpAndConfirm signs email up to the midlands group and confirms it with the link
// from the email.
func (b *browser) signUpAndConfirm(ctx context.Context, email string) error {
	if err := b.signUp(ctx, email); err != nil {
		return err
	}
	token, err := b.confirmToken(ctx, email)
	if err != nil {
		return err
	}
	return b.confirm(ctx, token)
}

// signUp posts the whole form (details and groups) as the groups page does.
func (b *browser) signUp(ctx context.Context, email string) error {
	form := url.Values{
		"name":         {"Bench Person"},
		"email":        {email},
		"council":      {"BIR"},
		"organisation": {""},
		"jobTitle":     {""},
		"groups":       {"midlands"},
	}
	status, body, header, err := b.do(ctx, http.MethodPost, "/join/groups", form)
	if err != nil {
		return err
	}
	if status != http.StatusSeeOther || header.Get("Location") != "/join/check-email" {
		return fmt.Errorf("sign-up: want 303 to /join/check-email, got %d to %q: %s", status, header.Get("Location"), pageTitle(body))
	}
	return nil
}

var confirmLink = regexp.MustCompile(`https?://\S+/join/confirm\?token=\S+`)

// confirmToken returns the token of the latest confirmation link sent to email,
// waiting (up to 30 seconds) for the outbox to send it.
func (b *browser) confirmToken(ctx context.Context, email string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		token, err := b.findConfirmToken(ctx, email)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return token, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) findConfirmToken(ctx context.Context, email string) (string, error) {
	mail, err := devstack.SentMail(ctx, b.store)
	if err != nil {
		return "", err
	}
	for _, m := range slices.Backward(mail) {
		if !m.SentTo(email) {
			continue
		}
		link := confirmLink.FindString(m.Body.Text)
		if link == "" {
			continue
		}
		u, err := url.Parse(link)
		if err != nil {
			return "", fmt.Errorf("confirmation link in %q: %w", m.Subject, err)
		}
		return u.Query().Get("token"), nil
	}
	return "", fmt.Errorf("no email with a confirmation link to %s among the %d the SES stand-in received", email, len(mail))
}

func (b *browser) confirm(ctx context.Context, token string) error {
	status, body, _, err := b.do(ctx, http.MethodPost, "/join/confirm", url.Values{"token": {token}})
	if err != nil {
		return err
	}
	if status != http.StatusOK || !strings.Contains(body, "You have joined") {
		return fmt.Errorf("confirm: want 200 and “You have joined”, got %d: %s", status, pageTitle(body))
	}
	return nil
}

// do sends one request (a form when form is not nil) and returns the response.
func (b *browser) do(ctx context.Context, method, path string, form url.Values) (int, string, http.Header, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return 0, "", nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	b.requests++
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp.StatusCode, string(page), resp.Header, nil
}

var titleTag = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// pageTitle returns a page's title, to say in an error what the service answered.
func pageTitle(page string) string {
	if m := titleTag.FindStringSubmatch(page); m != nil {
		return "page “" + strings.Join(strings.Fields(html.UnescapeString(m[1])), " ") + "”"
	}
	if len(page) > 200 {
		page = page[:200]
	}
	return fmt.Sprintf("%q", page)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
