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
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/testenv"
)

// lambdaSite is the web function as Lambda runs it: API Gateway HTTP API events in,
// through the adapter, responses out.
type lambdaSite struct {
	app     *website.App
	cfg     app.Config
	handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

func newLambdaSite(t *testing.T) *lambdaSite {
	awsCfg := testenv.AWSConfig(t)
	clients := mailing.NewClients(awsCfg)
	table := testenv.TableWithStream(t, clients.DynamoDB)
	cfg := testenv.Config(t, table, "https://peergroups.example.org", nil)
	a, err := website.New(cfg, clients.Clients, testenv.Logger(t))
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
	mustContain(t, body, "Your details", "Birmingham City Council")
	if resp.Headers["Strict-Transport-Security"] == "" {
		t.Errorf("behind HTTPS every response must carry Strict-Transport-Security: %v", resp.Headers)
	}
	// Forms carry no token, so a public page sets no cookie.
	if len(resp.Cookies) != 0 {
		t.Errorf("a public page set cookies: %v", resp.Cookies)
	}
}

func TestABase64FormPostThroughTheLambdaAdapter(t *testing.T) {
	t.Parallel()
	l := newLambdaSite(t)
	ev := loadEvent(t, "web-post-join.json")
	email := testenv.Address("lambda")
	// A browser posts the form from the service's page: Sec-Fetch-Site: same-origin.
	setBody(t, &ev, map[string]string{"email": email})

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
	person, err := l.app.Stores.People.Person(context.Background(), email)
	if err != nil || person.Signup == nil {
		t.Fatalf("no pending sign-up stored: %+v %v", person, err)
	}

	// An older browser sends no Sec-Fetch-Site, only Origin: the service's own address
	// is accepted even where a proxy puts another name in Host.
	delete(ev.Headers, "sec-fetch-site")
	ev.Headers["origin"] = "https://peergroups.example.org"
	if resp, _ = l.handler(context.Background(), ev); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("from the service's own address, by Origin: %d, want 303", resp.StatusCode)
	}

	// The same event from another site is refused, by Sec-Fetch-Site or by Origin.
	for name, headers := range map[string]map[string]string{
		"Sec-Fetch-Site": {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
		"Origin":         {"origin": "https://evil.example"},
	} {
		ev.Headers["origin"] = headers["origin"]
		delete(ev.Headers, "sec-fetch-site")
		if v, ok := headers["sec-fetch-site"]; ok {
			ev.Headers["sec-fetch-site"] = v
		}
		resp, _ = l.handler(context.Background(), ev)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("from another site, told by %s: %d, want 403", name, resp.StatusCode)
		}
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
