package app_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// Every bad answer gets a clear message on the page, keeps the other answers, and
// stores and sends nothing.
func TestBadAnswersGetAClearMessageAndNothingIsStored(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	cases := []struct {
		name    string
		change  func(url.Values)
		message string
	}{
		{"empty name", func(v url.Values) { v.Set("name", "  ") }, "Enter your full name"},
		{"empty email", func(v url.Values) { v.Set("email", "") }, "Enter your email address"},
		{"no council", func(v url.Values) { v.Set("council", "") }, "Select your council, or select ‘My organisation is not a council’"},
		{"not a council, no organisation", func(v url.Values) { v.Set("council", "not-a-council") }, "Enter the name of your organisation"},
		{"name over 200 characters", func(v url.Values) { v.Set("name", strings.Repeat("a", 201)) }, "Full name must be 200 characters or fewer"},
		{"email over 254 characters", func(v url.Values) { v.Set("email", strings.Repeat("a", 64)+"@"+strings.Repeat("b", 190)+".org") }, "Email address must be 254 characters or fewer"},
		{"malformed email", func(v url.Values) { v.Set("email", "ada@example") }, "Enter an email address in the correct format, like name@example.com"},
		{"email with a display name", func(v url.Values) { v.Set("email", "Ada <ada@example.org>") }, "Enter an email address in the correct format"},
		{"line feed in the name", func(v url.Values) { v.Set("name", "Ada\nBcc: victim@example.org") }, "Full name must be on one line"},
		{"carriage return in the email", func(v url.Values) { v.Set("email", "ada@example.org\r\nBcc: x@example.org") }, "Email address must be on one line"},
		{"line feed in the job title", func(v url.Values) { v.Set("jobTitle", "Boss\n") }, ""},
		{"carriage return in the job title", func(v url.Values) { v.Set("jobTitle", "Chief\rExecutive") }, "Job title must be on one line"},
		{"web address in the name", func(v url.Values) { v.Set("name", "Ada from evil.co.uk/x") }, "Enter your full name without a web address"},
		{"invalid UTF-8 in the name", func(v url.Values) { v.Set("name", "Ada \xff\xfe") }, "Full name contains characters we cannot read"},
		{"control character in the organisation", func(v url.Values) { v.Set("council", "not-a-council"); v.Set("organisation", "Acme\x00") }, "Organisation name must not contain control characters"},
		{"unknown council", func(v url.Values) { v.Set("council", "NARNIA") }, "Select your council from the list"},
		{"unknown group", func(v url.Values) { v.Set("groups", "narnia") }, "Select peer groups from the list"},
		{"no group", func(v url.Values) { v.Del("groups") }, "Select at least one peer group to join"},
		{"odd facilitate value", func(v url.Values) { v.Set("facilitate", "maybe") }, "Select whether you would like to help facilitate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := testenv.Address("bad")
			form := joinForm(email)
			tc.change(form)
			r := s.post("/join/groups", form)
			if tc.message == "" {
				// Surrounding spaces and a trailing line break are trimmed: accepted.
				if r.Status != http.StatusSeeOther {
					t.Fatalf("got %d, want the answer accepted\n%s", r.Status, r.Body)
				}
				return
			}
			if r.Status != http.StatusBadRequest {
				t.Fatalf("got %d, want 400\n%s", r.Status, r.Body)
			}
			mustContain(t, r.Body, "<title>Error: ", "There is a problem", html.EscapeString(tc.message))
			if name := form.Get("name"); name == "Ada Lovelace" {
				mustContain(t, r.Body, `value="Ada Lovelace"`) // answers kept
			}
			person, err := s.App.Stores.People.Person(context.Background(), strings.ToLower(form.Get("email")))
			if err == nil && person.Signup != nil {
				t.Error("a sign-up was stored")
			}
			if n := len(testenv.Mail(t, email)); n != 0 {
				t.Errorf("%d emails sent", n)
			}
		})
	}
}

func TestTheDetailsPageShowsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	s.get("/join")
	r := s.post("/join", url.Values{})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("got %d", r.Status)
	}
	mustContain(t, r.Body, `<a href="#name">Enter your full name</a>`, `<a href="#email">Enter your email address</a>`, `<a href="#council">`)
	mustContain(t, r.Body, `aria-describedby="email-hint email-error"`, "govuk-input--error")
}

// HTML in a name is shown as text on every page and in every email.
func TestHTMLInANameIsEscapedEverywhere(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("html")
	form := joinForm(email)
	name := `<script>alert("x")</script><b>Ada</b>`
	form.Set("name", name)
	details := s.post("/join", form)
	if strings.Contains(details.Body, "<script>alert") || strings.Contains(details.Body, "<b>Ada") {
		t.Fatal("the groups page carries the name unescaped")
	}
	if r := s.post("/join/groups", form); r.Status != http.StatusSeeOther {
		t.Fatalf("join: %d", r.Status)
	}
	mail := testenv.LastMail(t, email)
	if strings.Contains(mail.Body.HTML, "<script>") || strings.Contains(mail.Body.HTML, "<b>Ada") {
		t.Fatal("the confirmation email's HTML carries the name unescaped")
	}
	if !strings.Contains(mail.Body.HTML, "&lt;script&gt;") {
		t.Error("the confirmation email's HTML does not show the name as text")
	}
	if strings.Contains(mail.Subject, "script") {
		t.Error("user text reached the subject")
	}
	link := testenv.Link(t, mail.Body.Text, "/join/confirm")
	page := s.get(link)
	if strings.Contains(page.Body, "<script>alert") || !strings.Contains(page.Body, "&lt;script&gt;") {
		t.Fatal("the confirm page carries the name unescaped")
	}
	done := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}})
	if done.Status != http.StatusOK {
		t.Fatalf("confirm: %d", done.Status)
	}
	welcome := testenv.LastMail(t, email)
	if strings.Contains(welcome.Body.HTML, "<script>") {
		t.Fatal("the welcome email's HTML carries the name unescaped")
	}
}

func TestTamperedLinksAreRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("tamper")
	link := s.join(email)
	tok := tokenOf(t, link)
	manage := tokenOf(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/manage"))
	flip := []byte(tok)
	flip[len(flip)/2] ^= 1
	for name, bad := range map[string]string{
		"one character changed": string(flip),
		"cut short":             tok[:len(tok)-4],
		"not base64":            "!!!!",
		"empty":                 "",
		"a manage link's token": manage,
		"very long":             strings.Repeat("A", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			if r := s.get("/join/confirm?token=" + url.QueryEscape(bad)); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "This link is not valid") {
				t.Errorf("GET: %d", r.Status)
			}
			if r := s.post("/join/confirm", url.Values{"token": {bad}}); r.Status != http.StatusNotFound {
				t.Errorf("POST: %d", r.Status)
			}
			if r := s.get("/manage?token=" + url.QueryEscape(bad+"x")); r.Status != http.StatusNotFound {
				t.Errorf("manage: %d", r.Status)
			}
			if r := s.postRaw("/unsubscribe?token="+url.QueryEscape(bad+"x"), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); r.Status != http.StatusNotFound {
				t.Errorf("unsubscribe: %d", r.Status)
			}
		})
	}
	person := s.person(email)
	if person.IsMember("midlands") {
		t.Fatal("a tampered link confirmed the membership")
	}
}

func TestRequestsThatAreNotFormsAreRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	form := joinForm(testenv.Address("http"))

	big := form.Encode() + "&jobTitle=" + strings.Repeat("x", 70<<10)
	if r := s.postRaw("/join/groups", "application/x-www-form-urlencoded", big); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 70 KB body: %d, want 413", r.Status)
	}
	if r := s.postRaw("/join/groups", "application/json", `{"name":"Ada"}`); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON: %d, want 415", r.Status)
	}
	if r := s.postRaw("/join/groups", "multipart/form-data; boundary=x", "--x--"); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("multipart: %d, want 415", r.Status)
	}
	if r := s.postRaw("/join/groups", "", form.Encode()); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("no content type: %d, want 415", r.Status)
	}
	if r := s.postRaw("/join/groups", "application/x-www-form-urlencoded", "name=%zz"); r.Status != http.StatusBadRequest {
		t.Errorf("bad percent-encoding: %d, want 400", r.Status)
	}
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, s.URL+"/join", strings.NewReader(form.Encode()))
		r := s.do(req)
		if r.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s /join: %d, want 405", m, r.Status)
		}
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
			t.Errorf("%s /join: Allow = %q", m, allow)
		}
		if !strings.Contains(r.Body, "govuk-heading-l") {
			t.Errorf("%s /join: no page explains the 405", m)
		}
	}
	if r := s.get("/no-such-page"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Page not found") {
		t.Errorf("unknown page: %d", r.Status)
	}
}

// Forms are protected from other sites by the browser's own word on where a request
// comes from (Sec-Fetch-Site, or Origin in older browsers), checked by Go's
// http.CrossOriginProtection: every state-changing route refuses a cross-site post with
// 403, whoever is signed in, and nothing happens.
func TestFormsFromAnotherSiteAreRefusedOnEveryStateChangingRoute(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("cross-site-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	session := s.sessionFor(t, admin)
	email := testenv.Address("cross-site")
	browsers := map[string]http.Header{
		"another site":              {"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		"a sibling subdomain":       {"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://evil.peergroups.example.org"}},
		"an old browser, by Origin": {"Origin": {"https://evil.example"}},
	}
	posts := 0
	for _, rt := range s.App.Web.Routes() {
		if !strings.HasPrefix(rt.Pattern, "POST ") || rt.Pattern == "POST /unsubscribe" {
			continue
		}
		posts++
		_, path := pathFor(rt.Pattern)
		for name, header := range browsers {
			req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(joinForm(email).Encode()))
			req.Header = header.Clone()
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "session", Value: session})
			r := s.do(req)
			if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "This form could not be sent") {
				t.Errorf("%s from %s: %d, want 403 and a page that says why", rt.Pattern, name, r.Status)
			}
		}
	}
	if posts < 30 {
		t.Fatalf("only %d state-changing routes checked", posts)
	}
	if n := len(testenv.Mail(t, email)); n != 0 {
		t.Errorf("%d emails sent", n)
	}
	// Still signed in: the cross-site sign-out did nothing.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/admin", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: session})
	if r := s.do(req); r.Status != http.StatusOK {
		t.Errorf("after a cross-site sign-out, /admin: %d, want 200 (still signed in)", r.Status)
	}

	// The same form from the service's own page goes through, as browsers send it.
	for name, header := range map[string]http.Header{
		"a browser":        {"Sec-Fetch-Site": {"same-origin"}, "Origin": {s.URL}},
		"an older browser": {"Origin": {s.URL}},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/join/groups", strings.NewReader(joinForm(email).Encode()))
		req.Header = header.Clone()
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := s.do(req); r.Status != http.StatusSeeOther {
			t.Errorf("from the service's own page, in %s: %d, want 303", name, r.Status)
		}
	}
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	r := s.get("/join")
	for header, want := range map[string]string{
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	} {
		if got := r.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	// No form token, so no cookie until someone signs in.
	if cookies := s.client.Jar.Cookies(mustURL(t, s.URL)); len(cookies) != 0 {
		t.Errorf("a public page set cookies: %v", cookies)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A web address in a name, or in another short answer that goes into the email sent to
// the address typed, is refused on every public form with a clear message: nothing is
// stored and nothing is sent, so nobody can use our emails to send someone a link.
func TestWebAddressesInNamesAreRefusedAndNothingIsStoredOrSent(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	proposer := testenv.Address("proposer")
	s.post("/proposals/new", url.Values{"area": {"Web Shire"}, "name": {"Ada"}, "email": {proposer}, "why": {"None near."}})
	s.post("/proposals/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, proposer).Body.Text, "/proposals/confirm"))}})
	proposals, err := s.App.Stores.Proposals.Proposals(context.Background())
	if err != nil || len(proposals) != 1 {
		t.Fatalf("proposals: %v %v", proposals, err)
	}
	id := proposals[0].ID
	// Only a proposal an admin has listed takes interest.
	if err := s.App.Services.Proposals.ListProposal(context.Background(), pg.Caller{Email: "admin@example.org", Admin: true}, id); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		form       url.Values
		message    string
	}{
		{"join: a link in the name", "/join/groups", url.Values{"name": {"Claim your prize at evil.co.uk/x"}}, "Enter your full name without a web address"},
		{"join: a scheme in the name", "/join/groups", url.Values{"name": {"Ada https://evil.example"}}, "Enter your full name without a web address"},
		{"join: www. in the organisation", "/join/groups", url.Values{"council": {"not-a-council"}, "organisation": {"www.evil"}}, "Enter the name of your organisation without a web address"},
		{"join: a domain in the job title", "/join/groups", url.Values{"jobTitle": {"See example.com"}}, "Enter your job title without a web address"},
		{"register: a domain in the name", "/councils/sign-up", url.Values{"council": {"BIR"}, "role": {"Head"}, "name": {"evil.london"}}, "Enter your full name without a web address"},
		{"register: a domain in the role", "/councils/sign-up", url.Values{"council": {"BIR"}, "name": {"Ada"}, "role": {"bit.ly/abc"}}, "Enter your role without a web address"},
		{"propose: a domain in the area", "/proposals/new", url.Values{"area": {"evil.com"}, "name": {"Ada"}, "why": {"Because."}}, "Enter the area without a web address"},
		{"propose: a domain in the name", "/proposals/new", url.Values{"area": {"North"}, "name": {"Ada evil.com"}, "why": {"Because."}}, "Enter your full name without a web address"},
		{"interest: a domain in the name", "/proposals/" + id + "/interest", url.Values{"name": {"EVIL.ORG"}}, "Enter your full name without a web address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := testenv.Address("link")
			form := url.Values{"email": {email}}
			if tc.path == "/join/groups" {
				form = joinForm(email)
			}
			for k, v := range tc.form {
				form[k] = v
			}
			before := itemCount(t, s)
			r := s.post(tc.path, form)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("got %d, want 400\n%s", r.Status, r.Body)
			}
			mustContain(t, r.Body, "<title>Error: ", "There is a problem", html.EscapeString(tc.message))
			if after := itemCount(t, s); after != before {
				t.Errorf("%d items in the table before, %d after: something was stored", before, after)
			}
			if n := len(testenv.Mail(t, email)); n != 0 {
				t.Errorf("%d emails sent", n)
			}
		})
	}
	// Names people have pass.
	for _, name := range []string{"St. Helens Council", "J. Smith", "O'Neil"} {
		email := testenv.Address("ok")
		form := joinForm(email)
		form.Set("name", name)
		if r := s.post("/join/groups", form); r.Status != http.StatusSeeOther {
			t.Errorf("%q: got %d, want the answer accepted\n%s", name, r.Status, r.Body)
		}
	}
}

// itemCount counts the items in the site's table (a Scan: tests only).
func itemCount(t *testing.T, s *site) int32 {
	t.Helper()
	out, err := app.NewClients(testenv.AWSConfig(t)).DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.Table), Select: dbtypes.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}
