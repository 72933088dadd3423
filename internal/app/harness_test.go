package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// site is the whole service on a test server, against the stand-ins, with a browser-
// like client that keeps cookies and does not follow redirects.
type site struct {
	t      *testing.T
	URL    string
	App    *website.App
	Clock  *testenv.Clock
	Table  string
	Config app.Config
	client *http.Client
}

func newSite(t *testing.T, extra map[string]string) *site {
	t.Helper()
	return newSiteWithSES(t, extra, "")
}

// newSiteWithSES is newSite with the outbox function reaching SES through another
// endpoint (a faulty proxy). The web function sends no mail itself.
func newSiteWithSES(t *testing.T, extra map[string]string, sesEndpoint string) *site {
	t.Helper()
	return newSiteWith(t, siteOptions{extra: extra, outboxSES: sesEndpoint})
}

// siteOptions say how newSiteWith composes a site.
type siteOptions struct {
	extra map[string]string
	// outboxSES is where the outbox function reaches SES ("" for the stand-in itself).
	outboxSES string
	// apiOptions are added to the web function's AWS clients (to count requests, say).
	apiOptions []func(*middleware.Stack) error
	outbox     testenv.OutboxOptions
	// noStream: a table without a stream and no outbox function, for a test that
	// writes many items and reads no email (each stream record slows DynamoDB Local
	// for every later test).
	noStream bool
}

// newSiteWith composes the site as the options say. Every site's table has its
// stream, followed by the outbox function's handler.
func newSiteWith(t *testing.T, o siteOptions) *site {
	t.Helper()
	extra := o.extra
	awsCfg := testenv.AWSConfig(t)
	withSES := func(endpoint string, cfg aws.Config) mailing.Clients {
		clients := mailing.NewClients(cfg)
		if endpoint != "" {
			clients.SES = sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(endpoint) })
		}
		return clients
	}
	webCfg := awsCfg.Copy()
	webCfg.APIOptions = append(webCfg.APIOptions, o.apiOptions...)
	clients := app.NewClients(webCfg)
	var table string
	if o.noStream {
		table = testenv.Table(t, clients.DynamoDB)
	} else {
		table = testenv.TableWithStream(t, clients.DynamoDB)
	}
	if extra == nil {
		extra = map[string]string{}
	}
	delete(extra, "STREAM")
	if extra["EXPORTS_BUCKET"] == "" {
		extra["EXPORTS_BUCKET"] = testenv.Bucket(t, s3exports.NewClient(awsCfg))
	}
	if extra["KITS_BUCKET"] == "" {
		extra["KITS_BUCKET"] = testenv.Bucket(t, s3exports.NewClient(awsCfg))
	}
	clock := testenv.NewClock()
	if extra["KITS_UPLOAD_URL"] == "" {
		// Uploads go through the front that enforces the POST policy as S3 does,
		// on the site's clock.
		front := httptest.NewServer(devstack.UploadFront{S3: s3exports.NewClient(awsCfg), Now: clock.Now})
		t.Cleanup(front.Close)
		extra["KITS_UPLOAD_URL"] = front.URL
	}
	s := &site{t: t, Clock: clock, Table: table}
	srv := httptest.NewUnstartedServer(nil)
	s.URL = "http://" + srv.Listener.Addr().String()
	s.Config = testenv.Config(t, table, s.URL, extra)
	a, err := website.New(s.Config, clients, testenv.Logger(t), app.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	a.Web.Exports = s3exports.New(s3exports.NewClient(awsCfg), s.Config.ExportsBucket)
	a.Services.Kits.Renderer = devstack.Renderer{} // the render function's code, in this process
	s.App = a
	if !o.noStream {
		testenv.Outbox(t, s.Config, withSES(o.outboxSES, awsCfg), clock.Now, o.outbox)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	s.client = newClient()
	return s
}

// newClient is a browser-like client: it keeps cookies and does not follow redirects.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// response is what came back.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func (s *site) do(req *http.Request) response {
	s.t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

// get fetches a path (or a full URL).
func (s *site) get(path string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.abs(path), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

// post sends a form.
func (s *site) post(path string, form url.Values) response {
	s.t.Helper()
	return s.postRaw(path, "application/x-www-form-urlencoded", form.Encode())
}

func (s *site) postRaw(path, contentType, body string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.abs(path), strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return s.do(req)
}

func (s *site) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return s.URL + path
}

// joinForm returns a valid join form for an address: Birmingham (West Midlands),
// joining the Midlands group.
func joinForm(email string) url.Values {
	return url.Values{
		"name":     {"Ada Lovelace"},
		"email":    {email},
		"council":  {"BIR"},
		"jobTitle": {"Service designer"},
		"groups":   {"midlands"},
	}
}

// tokenOf returns the token query parameter of a link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// join signs up an address and returns the confirmation link from its email.
func (s *site) join(email string) string {
	s.t.Helper()
	if r := s.post("/join/groups", joinForm(email)); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/join/check-email" {
		s.t.Fatalf("join: got %d to %q, want 303 to /join/check-email\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return testenv.Link(s.t, testenv.LastMail(s.t, email).Body.Text, "/join/confirm")
}

// joinAndConfirm signs up and confirms an address, returning its welcome email.
func (s *site) joinAndConfirm(email string) testenv.Email {
	s.t.Helper()
	link := s.join(email)
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(s.t, link)}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "You have joined") {
		s.t.Fatalf("confirm: got %d\n%s", r.Status, r.Body)
	}
	return testenv.LastMail(s.t, email)
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not say %q", w)
		}
	}
}
