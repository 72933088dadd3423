package app_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// download fetches a file the service writes to the exports bucket: its answer is a
// redirect to a presigned link, which is then fetched.
func (s *site) download(path string) response {
	s.t.Helper()
	r := s.get(path)
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("download %s: %d, want a redirect to the file", path, r.Status)
	}
	resp, err := http.Get(r.Header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

// signIn asks for a sign-in link by email, follows it and signs in, returning where
// the service sent the browser.
func (s *site) signIn(email string) string {
	s.t.Helper()
	if r := s.post("/sign-in", url.Values{"email": {email}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
		s.t.Fatalf("ask for a sign-in link: %d\n%s", r.Status, r.Body)
	}
	link := testenv.Link(s.t, testenv.LastMail(s.t, email).Body.Text, "/sign-in/link")
	if r := s.get(link); r.Status != http.StatusOK || !strings.Contains(r.Body, "Sign in to Peer Groups") {
		s.t.Fatalf("open the sign-in link: %d\n%s", r.Status, r.Body)
	}
	r := s.post("/sign-in/link", url.Values{"token": {tokenOf(s.t, link)}})
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("sign in: %d\n%s", r.Status, r.Body)
	}
	return r.Header.Get("Location")
}

func TestSigningInByEmail(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	if where := s.signIn(admin); where != "/admin" {
		t.Fatalf("an admin lands on %q, want /admin", where)
	}
	if r := s.get("/admin"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Create a group") {
		t.Fatalf("admin page: %d", r.Status)
	}
	var session *http.Cookie
	for _, c := range s.client.Jar.Cookies(mustURL(t, s.URL)) {
		if c.Name == "session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}

	// Signing out ends the session on the server: the old cookie no longer works.
	if r := s.post("/sign-out", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/admin", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: session.Value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign-in" {
		t.Fatalf("the cookie of a signed-out session still works: %d", resp.StatusCode)
	}
}

func TestSignInLinksWorkOnceAndExpire(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	s.post("/sign-in", url.Values{"email": {admin}})
	link := testenv.Link(t, testenv.LastMail(t, admin).Body.Text, "/sign-in/link")
	tok := tokenOf(t, link)

	flip := []byte(tok)
	flip[3] ^= 1
	for name, bad := range map[string]string{"tampered": string(flip), "empty": "", "too long": strings.Repeat("a", 500)} {
		if r := s.post("/sign-in/link", url.Values{"token": {bad}}); r.Status != http.StatusGone {
			t.Errorf("%s link: %d, want 410", name, r.Status)
		}
	}
	if r := s.post("/sign-in/link", url.Values{"token": {tok}}); r.Status != http.StatusSeeOther {
		t.Fatalf("first use: %d", r.Status)
	}
	r := s.post("/sign-in/link", url.Values{"token": {tok}})
	if r.Status != http.StatusGone || !strings.Contains(r.Body, "already been used") {
		t.Fatalf("second use: %d", r.Status)
	}
	if g := s.get(link); g.Status != http.StatusGone {
		t.Fatalf("opening a used link: %d", g.Status)
	}

	s.post("/sign-in", url.Values{"email": {admin}})
	late := testenv.Link(t, testenv.LastMail(t, admin).Body.Text, "/sign-in/link")
	s.Clock.Add(16 * time.Minute)
	if r := s.get(late); r.Status != http.StatusGone || !strings.Contains(r.Body, "expired") {
		t.Fatalf("a link after 16 minutes: %d", r.Status)
	}
	if r := s.post("/sign-in/link", url.Values{"token": {tokenOf(t, late)}}); r.Status != http.StatusGone {
		t.Fatalf("signing in with an expired link: %d", r.Status)
	}
}

func TestAskingForASignInLinkRevealsNothing(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "SIGNUP_LIMIT_PER_EMAIL": "2"})
	stranger := testenv.Address("stranger")
	a := s.post("/sign-in", url.Values{"email": {admin}})
	b := s.post("/sign-in", url.Values{"email": {stranger}})
	if a.Status != b.Status || a.Body != b.Body {
		t.Fatal("the page after asking differs for an admin and a stranger")
	}
	if n := len(testenv.Mail(t, stranger)); n != 0 {
		t.Fatalf("%d emails to a stranger", n)
	}
	s.post("/sign-in", url.Values{"email": {admin}})
	if r := s.post("/sign-in", url.Values{"email": {admin}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a third request in an hour: %d, want 429", r.Status)
	}
	if r := s.post("/sign-in", url.Values{"email": {"not an address"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("a bad address: %d, want 400", r.Status)
	}
}

func TestForgedAndExpiredSessionsAreAnonymous(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	valid := s.sessionFor(t, admin)
	id, _, _ := strings.Cut(valid, ".")
	for name, value := range map[string]string{
		"no signature":             id,
		"a wrong signature":        id + ".AAAA",
		"signed with another key":  pg.SignSession(otherKeyring(t), id),
		"a session that never was": pg.SignSession(s.App.Web.Sessions.Keys, "made-up-id"),
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/admin", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: value})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign-in" {
			t.Errorf("%s: %d, want a redirect to sign in", name, resp.StatusCode)
		}
	}
	s.Clock.Add(pg.SessionTTL + time.Minute)
	c, err := s.App.Services.Access.Caller(context.Background(), id)
	if err != nil || c.SignedIn() {
		t.Fatalf("a session past its expiry is still signed in: %+v %v", c, err)
	}
}

func TestAnAdminRunsAGroupAndItsFacilitatorSeesOnlyThatGroup(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	s.signIn(admin)

	// Bad input first.
	bad := s.post("/admin/groups", url.Values{"id": {"North West!"}, "name": {""}})
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("bad group: %d", bad.Status)
	}
	mustContain(t, bad.Body, "There is a problem", "Short name must be", "Enter the group’s name", "Select the regions the group covers")
	dup := s.post("/admin/groups", url.Values{"id": {"london"}, "name": {"London again"}, "regions": {"London"}})
	mustContain(t, dup.Body, "There is already a group with the short name london")

	created := s.post("/admin/groups", url.Values{"id": {"north-west"}, "name": {"North West"}, "regions": {"North West"}, "description": {"For councils in the North West.\nMeets in Manchester."}})
	if created.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", created.Status, created.Body)
	}
	if home := s.get("/"); !strings.Contains(home.Body, "North West") {
		t.Fatal("the new group is not on the home page")
	}
	// A Manchester council is now offered the new group.
	details := s.post("/join", url.Values{"name": {"Ada"}, "email": {testenv.Address("nw")}, "council": {"MAN"}})
	mustContain(t, details.Body, `value="north-west" aria-describedby="groups-north-west-hint" checked`)

	// Appoint a facilitator: they get an invitation with a sign-in link.
	fac := testenv.Address("fac")
	if r := s.post("/admin/groups/north-west/facilitators", url.Values{"email": {fac}}); r.Status != http.StatusSeeOther {
		t.Fatalf("appoint: %d\n%s", r.Status, r.Body)
	}
	invite := testenv.LastMail(t, fac)
	if invite.Subject != "You have been asked to facilitate a peer group" || !strings.Contains(invite.Body.Text, "North West peer group") {
		t.Fatalf("invitation: %q\n%s", invite.Subject, invite.Body.Text)
	}

	// A member joins, with a name a spreadsheet would run.
	member := testenv.Address("member")
	form := url.Values{"name": {`=HYPERLINK(A1,"x")`}, "email": {member}, "council": {"MAN"}, "groups": {"north-west"}, "jobTitle": {"<b>Boss</b>"}}
	s.post("/join/groups", form)
	s.post("/join/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, member).Body.Text, "/join/confirm"))}})

	// The facilitator signs in from the invitation and sees only their group.
	f := &site{t: t, URL: s.URL, App: s.App, Clock: s.Clock, client: newClient()}
	link := testenv.Link(t, invite.Body.Text, "/sign-in/link")
	f.get(link)
	r := f.post("/sign-in/link", url.Values{"token": {tokenOf(t, link)}})
	if r.Header.Get("Location") != "/facilitate" {
		t.Fatalf("a facilitator lands on %q", r.Header.Get("Location"))
	}
	mine := f.get("/facilitate")
	mustContain(t, mine.Body, "North West")
	if strings.Contains(mine.Body, "Midlands") {
		t.Error("a facilitator sees another group")
	}
	if r := f.get("/facilitate/midlands"); r.Status != http.StatusForbidden {
		t.Errorf("another group's members: %d, want 403", r.Status)
	}
	if r := f.get("/admin"); r.Status != http.StatusForbidden {
		t.Errorf("the admin console: %d, want 403", r.Status)
	}
	members := f.get("/facilitate/north-west")
	mustContain(t, members.Body, member, "&lt;b&gt;Boss&lt;/b&gt;", "Manchester City Council")
	if strings.Contains(members.Body, "<b>Boss") {
		t.Error("a member's job title is not escaped")
	}

	// The CSV neutralises formulas.
	csvResp := f.download("/facilitate/north-west/members.csv")
	if ct := csvResp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("CSV content type %q", ct)
	}
	records, err := csv.NewReader(strings.NewReader(csvResp.Body)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("CSV: %v, %d records\n%s", err, len(records), csvResp.Body)
	}
	if name := records[1][1]; name != `'=HYPERLINK(A1,"x")` {
		t.Errorf("CSV name cell %q is not neutralised", name)
	}

	// The facilitator changes the description; the admin reads it in the audit trail.
	if r := f.post("/facilitate/north-west", url.Values{"version": {versionOn(t, members.Body)}, "description": {"We meet <monthly>."}, "contact": {"nw@example.org"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("facilitator edit: %d\n%s", r.Status, r.Body)
	}
	if home := s.get("/"); !strings.Contains(home.Body, "We meet &lt;monthly&gt;.") {
		t.Error("the new description is not on the home page, escaped")
	}
	audit := s.get("/admin/audit")
	mustContain(t, audit.Body, "create group: north-west", "appoint facilitator: north-west "+fac, "change group: north-west", fac)

	// Pausing a group stops people joining it.
	s.post("/admin/groups/north-west/pause", url.Values{})
	form = joinForm(testenv.Address("late"))
	form.Set("groups", "north-west")
	if r := s.post("/join/groups", form); r.Status != http.StatusBadRequest {
		t.Errorf("joining a paused group: %d, want 400", r.Status)
	}

	// Removing the facilitator takes their access away.
	s.post("/admin/groups/north-west/facilitators/remove", url.Values{"email": {fac}})
	if r := f.get("/facilitate/north-west"); r.Status != http.StatusForbidden {
		t.Errorf("a removed facilitator: %d, want 403", r.Status)
	}
}

func TestAdminsAppointAdminsButNotRemoveThemselves(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	s.signIn(admin)
	second := testenv.Address("second")
	if r := s.post("/admin/admins", url.Values{"email": {second}}); r.Status != http.StatusSeeOther {
		t.Fatalf("appoint: %d", r.Status)
	}
	mustContain(t, s.get("/admin/admins").Body, second)
	c, err := s.App.Services.Access.Caller(context.Background(), strings.SplitN(s.sessionFor(t, second), ".", 2)[0])
	if err != nil || !c.Admin {
		t.Fatalf("the appointed admin is not an admin: %+v %v", c, err)
	}
	if r := s.post("/admin/admins/remove", url.Values{"email": {admin}}); r.Status != http.StatusBadRequest {
		t.Fatalf("removing yourself: %d, want 400", r.Status)
	}
}

func TestFacilitatorsSeeMembersByStatus(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	confirmed, pending, left := testenv.Address("confirmed"), testenv.Address("pending"), testenv.Address("left")
	s.joinAndConfirm(confirmed)
	s.join(pending)
	welcome := s.joinAndConfirm(left)
	s.post("/manage/leave-all", url.Values{"token": {tokenOf(t, testenv.Link(t, welcome.Body.Text, "/manage"))}})
	s.signIn(admin)
	for status, want := range map[string]string{"confirmed": confirmed, "pending": pending, "left": left} {
		r := s.get("/facilitate/midlands?status=" + status)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", status, r.Status)
		}
		for _, other := range []string{confirmed, pending, left} {
			if got := strings.Contains(r.Body, other); got != (other == want) {
				t.Errorf("%s list shows %s: %v", status, other, got)
			}
		}
	}
	if r := s.get("/facilitate/midlands?status=everyone"); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown filter: %d, want 400", r.Status)
	}
	s.Clock.Add(49 * time.Hour)
	s.signIn(admin) // the session of 49 hours ago has expired
	if r := s.get("/facilitate/midlands?status=pending"); r.Status != http.StatusOK || strings.Contains(r.Body, pending) {
		t.Errorf("an expired sign-up is listed as pending (%d)", r.Status)
	}
}
