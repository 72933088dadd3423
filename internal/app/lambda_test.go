package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/testenv"
)

// lambdaSite is the web function as Lambda runs it: API Gateway HTTP API events in,
// through the adapter, responses out.
type lambdaSite struct {
	app     *app.App
	cfg     app.Config
	handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

func newLambdaSite(t *testing.T) *lambdaSite {
	awsCfg := testenv.AWSConfig(t)
	clients := app.NewClients(awsCfg)
	table := testenv.TableWithStream(t, clients.DynamoDB)
	cfg := testenv.Config(t, table, "https://peergroups.example.org", nil)
	a, err := app.New(cfg, clients, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Outbox(t, cfg, clients, time.Now, testenv.OutboxOptions{})
	return &lambdaSite{app: a, cfg: cfg, handler: httpadapter.NewV2(a.Handler()).ProxyWithContext}
}

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// setBody replaces form fields of a base64 body, as HTTP API sends it.
func setBody(t *testing.T, ev *events.APIGatewayV2HTTPRequest, set map[string]string) {
	t.Helper()
	if !ev.IsBase64Encoded {
		t.Fatal("HTTP API sends form bodies base64-encoded; the event should too")
	}
	raw, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		form.Set(k, v)
	}
	ev.Body = base64.StdEncoding.EncodeToString([]byte(form.Encode()))
}

func cookieValue(ev events.APIGatewayV2HTTPRequest, name string) string {
	for _, c := range ev.Cookies {
		if v, ok := strings.CutPrefix(c, name+"="); ok {
			return v
		}
	}
	return ""
}

func TestTheJoinFormThroughTheLambdaAdapter(t *testing.T) {
	t.Parallel()
	l := newLambdaSite(t)
	resp, err := l.handler(context.Background(), loadEvent(t, "web-get-join.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body := resp.Body
	if resp.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(resp.Body)
		body = string(b)
	}
	mustContain(t, body, "Your details", `name="csrf"`, "Birmingham City Council")
	var secureCookie bool
	for _, c := range resp.Cookies {
		if strings.HasPrefix(c, "__Host-csrf=") && strings.Contains(c, "Secure") && strings.Contains(c, "HttpOnly") && strings.Contains(c, "SameSite=Lax") {
			secureCookie = true
		}
	}
	if !secureCookie {
		t.Errorf("behind HTTPS the CSRF cookie must be __Host-, Secure, HttpOnly, SameSite=Lax: %v", resp.Cookies)
	}
}

func TestABase64FormPostThroughTheLambdaAdapter(t *testing.T) {
	t.Parallel()
	l := newLambdaSite(t)
	ev := loadEvent(t, "web-post-join.json")
	email := testenv.Address("lambda")
	// Behind HTTPS the cookie is __Host-csrf; the event's cookie is renamed to match.
	value := cookieValue(ev, "csrf")
	ev.Cookies = []string{"__Host-csrf=" + value}
	setBody(t, &ev, map[string]string{"csrf": l.app.Web.CSRF.TokenFor(value), "email": email})

	resp, err := l.handler(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != "/join/check-email" {
		t.Fatalf("got %d to %q, want 303 to /join/check-email: %s", resp.StatusCode, resp.Headers["Location"], resp.Body)
	}
	mail := testenv.LastMail(t, email)
	if !strings.Contains(mail.Body.Text, "https://peergroups.example.org/join/confirm?token=") {
		t.Fatalf("confirmation link not in the email:\n%s", mail.Body.Text)
	}
	// The client IP came from the request context: a second client's limit is its own.
	person, err := l.app.Store.Person(context.Background(), email)
	if err != nil || person.Signup == nil {
		t.Fatalf("no pending sign-up stored: %+v %v", person, err)
	}

	// The same event without its CSRF token is refused.
	setBody(t, &ev, map[string]string{"csrf": ""})
	resp, _ = l.handler(context.Background(), ev)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without a CSRF token: %d, want 403", resp.StatusCode)
	}
}

func TestOneClickUnsubscribeThroughTheLambdaAdapter(t *testing.T) {
	t.Parallel()
	l := newLambdaSite(t)
	s := newSite(t, nil) // for the sign-up itself
	email := testenv.Address("lambda-unsub")
	welcome := s.joinAndConfirm(email)
	ev := loadEvent(t, "web-post-unsubscribe.json")
	// The unsubscribe token was sealed with the other site's key; use that site's handler.
	l.handler = httpadapter.NewV2(s.App.Handler()).ProxyWithContext
	ev.RawQueryString = "token=" + url.QueryEscape(tokenOf(t, strings.Trim(welcome.Header("List-Unsubscribe"), "<>")))
	resp, err := l.handler(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d %s", resp.StatusCode, resp.Body)
	}
	person := s.person(email)
	if person.IsMember("midlands") {
		t.Fatal("still a member after one-click unsubscribe")
	}
}
