package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/website"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// anotherInstance is a second instance of the service on the same table, with the same
// configuration and clock and its own cache of groups, as a second Lambda instance is.
// It shares the client (and so the cookies) of s: cookies do not depend on the port.
func (s *site) anotherInstance() *site {
	s.t.Helper()
	a, err := website.New(s.Config, app.NewClients(testenv.AWSConfig(s.t)), testenv.Logger(s.t), app.WithClock(s.Clock.Now))
	if err != nil {
		s.t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	s.t.Cleanup(srv.Close)
	return &site{t: s.t, URL: srv.URL, App: a, Clock: s.Clock, Table: s.Table, Config: s.Config, client: s.client}
}

// as returns a browser of its own on the same site, signed in as email.
func (s *site) as(email string) *site {
	s.t.Helper()
	other := &site{t: s.t, URL: s.URL, App: s.App, Clock: s.Clock, Table: s.Table, Config: s.Config, client: newClient()}
	other.signIn(email)
	return other
}

var versionInput = regexp.MustCompile(`name="version" value="([^"]*)"`)

// versionOn returns the version a page's edit form carries ("" when it has none: the
// edit is then refused, which the tests notice).
func versionOn(t *testing.T, body string) string {
	t.Helper()
	m := versionInput.FindStringSubmatch(body)
	if m == nil {
		t.Log("the page has no version in its form")
		return ""
	}
	return html.UnescapeString(m[1])
}

func storedGroup(t *testing.T, s *site, id string) pg.Group {
	t.Helper()
	groups, err := s.App.Stores.Network.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g, ok := pg.FindGroup(groups, id)
	if !ok {
		t.Fatalf("no group %s", id)
	}
	return g
}

func TestTwoEditorsOfOneGroupLoseNothing(t *testing.T) {
	t.Parallel()
	first, second := testenv.Address("admin-one"), testenv.Address("admin-two")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": first + "," + second})
	a, b := s.as(first), s.as(second)
	// Both open the settings of London at the same version.
	pageA, pageB := a.get("/admin/groups/london"), b.get("/admin/groups/london")
	if versionOn(t, pageA.Body) != versionOn(t, pageB.Body) {
		t.Fatal("two editors opening the group at once see different versions")
	}
	original := storedGroup(t, s, "london")

	// The first renames the group.
	renamed := url.Values{"version": {versionOn(t, pageA.Body)}, "name": {"London and the City"}, "regions": {"London"}, "description": {original.Description}}
	if r := a.post("/admin/groups/london", renamed); r.Status != http.StatusSeeOther {
		t.Fatalf("first edit: %d\n%s", r.Status, r.Body)
	}
	// The second, from the form they opened before, changes the description.
	described := url.Values{"version": {versionOn(t, pageB.Body)}, "name": {original.Name}, "regions": {"London"}, "description": {"Meets <monthly> at City Hall."}}
	r := b.post("/admin/groups/london", described)
	if g := storedGroup(t, s, "london"); g.Name != "London and the City" {
		t.Fatalf("the second edit (%d) undid the first: the name is %q again", r.Status, g.Name)
	}
	if r.Status != http.StatusConflict {
		t.Fatalf("second edit from the same version: %d, want 409\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Someone else changed this group", "Your changes have not been saved", "London and the City", "Meets &lt;monthly&gt; at City Hall.", `value="London and the City"`)
	if strings.Contains(r.Body, "<monthly>") {
		t.Error("the conflict page does not escape what was sent")
	}
	if g := storedGroup(t, s, "london"); g.Name != "London and the City" || g.Description != original.Description {
		t.Fatalf("after the conflict the group is %+v: the first edit was lost or the second saved", g)
	}

	// The conflict page's form carries the new version: saving from it works, and keeps
	// the first editor's name.
	again := url.Values{"version": {versionOn(t, r.Body)}, "name": {"London and the City"}, "regions": {"London"}, "description": {"Meets <monthly> at City Hall."}}
	if r := b.post("/admin/groups/london", again); r.Status != http.StatusSeeOther {
		t.Fatalf("saving again from the conflict page: %d\n%s", r.Status, r.Body)
	}
	if g := storedGroup(t, s, "london"); g.Name != "London and the City" || g.Description != "Meets <monthly> at City Hall." {
		t.Fatalf("the group is %+v, want both changes", g)
	}
	// A form without a version (or a made-up one) saves nothing either.
	for _, v := range []string{"", "x", "-1", "999"} {
		form := url.Values{"version": {v}, "name": {"Changed"}, "regions": {"London"}}
		if r := b.post("/admin/groups/london", form); r.Status != http.StatusConflict {
			t.Errorf("version %q: %d, want 409", v, r.Status)
		}
	}
	if g := storedGroup(t, s, "london"); g.Name != "London and the City" {
		t.Fatalf("a form without the current version changed the name to %q", g.Name)
	}
	// An admin may use the facilitator's form too: it changes what it shows, nothing else.
	public := a.get("/facilitate/london")
	if r := a.post("/facilitate/london", url.Values{"version": {versionOn(t, public.Body)}, "description": {"Meets <monthly> at City Hall."}, "contact": {"london@example.org"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("an admin saving the facilitator's form: %d\n%s", r.Status, r.Body)
	}
	if g := storedGroup(t, s, "london"); g.Name != "London and the City" || !slices.Equal(g.Regions, []string{"London"}) || g.Contact != "london@example.org" {
		t.Fatalf("after an admin saved the facilitator's form the group is %+v", g)
	}
	audit := s.as(first).get("/admin/audit")
	if n := strings.Count(audit.Body, "change group: london"); n != 3 {
		t.Errorf("the audit trail has %d changes of london, want 3", n)
	}
}

func TestAPauseSurvivesAFacilitatorsOldFormOnAnotherInstance(t *testing.T) {
	t.Parallel()
	admin, fac := testenv.Address("admin"), testenv.Address("fac")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: admin, Admin: true}, "london", fac); err != nil {
		t.Fatal(err)
	}
	s.signIn(admin)
	// The facilitator works on another instance, whose cache of groups is filled now.
	f := s.as(fac).anotherInstance()
	form := f.get("/facilitate/london")
	if form.Status != http.StatusOK {
		t.Fatalf("facilitator's page: %d", form.Status)
	}
	f.get("/") // the home page fills the instance's cache of groups

	// The admin pauses the group on the first instance, within the cache's minute.
	if r := s.post("/admin/groups/london/pause", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("pause: %d", r.Status)
	}
	s.Clock.Add(10 * time.Second)

	// The facilitator saves the description from the form opened before the pause.
	r := f.post("/facilitate/london", url.Values{"version": {versionOn(t, form.Body)}, "description": {"New words."}, "contact": {""}})
	if !storedGroup(t, s, "london").Paused {
		t.Fatalf("the facilitator's save (%d) resumed the paused group", r.Status)
	}
	if r.Status != http.StatusConflict {
		t.Fatalf("a save from before the pause: %d, want 409\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Someone else changed this group", "The group is paused", `action="/facilitate/london"`)
	if strings.Contains(r.Body, `name="name"`) {
		t.Error("the facilitator's conflict page offers the admin's fields")
	}
	// Saved again from the conflict page, the description changes and the pause stays.
	if r := f.post("/facilitate/london", url.Values{"version": {versionOn(t, r.Body)}, "description": {"New words."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("saving again: %d\n%s", r.Status, r.Body)
	}
	if g := storedGroup(t, s, "london"); !g.Paused || g.Description != "New words." {
		t.Fatalf("the group is %+v, want paused with the new description", g)
	}
}

func TestSavingTheManagePageKeepsPausedGroups(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	member := testenv.Address("member")
	welcome := s.joinAndConfirm(member) // Midlands
	tok := tokenOf(t, testenv.Link(t, welcome.Body.Text, "/manage"))
	if r := s.post("/manage/groups", url.Values{"token": {tok}, "groups": {"midlands", "london"}, "offered": {"london", "midlands", "south", "yorkshire"}}); r.Status != http.StatusOK {
		t.Fatalf("join London too: %d\n%s", r.Status, r.Body)
	}
	if err := s.App.Services.Network.SetPaused(context.Background(), pg.Caller{Email: admin, Admin: true}, "london", true); err != nil {
		t.Fatal(err)
	}

	page := s.get("/manage?token=" + url.QueryEscape(tok))
	mustContain(t, page.Body, "London is paused, so it is not listed here. Saving keeps your membership")
	if strings.Contains(page.Body, `name="groups" type="checkbox" value="london"`) {
		t.Fatal("a paused group is offered for changing")
	}
	// Save the page as it is: Midlands ticked, London not offered.
	form := url.Values{"token": {tok}, "groups": {"midlands"}}
	for _, m := range regexp.MustCompile(`name="offered" value="([^"]+)"`).FindAllStringSubmatch(page.Body, -1) {
		form.Add("offered", m[1])
	}
	r := s.post("/manage/groups", form)
	if r.Status != http.StatusOK {
		t.Fatalf("save: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Your groups have been saved", "London is paused")
	person, err := s.App.Stores.People.Person(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	if !person.IsMember("london") || !person.IsMember("midlands") {
		t.Fatalf("after saving, member of %v, want London (paused) and Midlands", person.ConfirmedGroups())
	}
	// Unticking everything offered still keeps the paused group; leaving all leaves it.
	s.post("/manage/groups", url.Values{"token": {tok}, "offered": form["offered"]})
	if person = s.person(member); !slices.Equal(person.ConfirmedGroups(), []string{"london"}) {
		t.Fatalf("after unticking everything, member of %v, want London", person.ConfirmedGroups())
	}
	s.post("/manage/leave-all", url.Values{"token": {tok}})
	if person = s.person(member); len(person.ConfirmedGroups()) != 0 {
		t.Fatalf("after leaving all, still a member of %v", person.ConfirmedGroups())
	}
}

var memberRowCell = regexp.MustCompile(`<td class="govuk-table__cell pg-wrap">([^<]+)</td>`)

// emailsOn returns the addresses listed on a members page, in order.
func emailsOn(body string) []string {
	var out []string
	for _, m := range memberRowCell.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

var pageLink = regexp.MustCompile(`href="(/facilitate/[^"]+)" rel="(prev|next)"`)

// pageLinks returns a members page's links to the pages before and after it.
func pageLinks(body string) (prev, next string) {
	for _, m := range pageLink.FindAllStringSubmatch(body, -1) {
		if m[2] == "prev" {
			prev = html.UnescapeString(m[1])
		} else {
			next = html.UnescapeString(m[1])
		}
	}
	return prev, next
}

func importMembers(t *testing.T, s *site, group string, n int) []string {
	t.Helper()
	rows := make([]pg.MemberRow, n)
	emails := make([]string, n)
	for i := range rows {
		emails[i] = fmt.Sprintf("%s-%05d@example.org", group, i)
		rows[i] = pg.MemberRow{Email: emails[i], Name: fmt.Sprintf("Member %d", i), CouncilCode: "BIR", JobTitle: "Designer"}
		if i%1000 == 7 {
			rows[i].Name = `=HYPERLINK("http://evil.example","x")`
		}
	}
	if err := s.App.Stores.Members.ImportMembers(context.Background(), group, rows, s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(emails)
	return emails
}

func TestTheMembersPagePagesThroughAGroup(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	want := importMembers(t, s, "london", 250)
	s.signIn(admin)

	first := s.get("/facilitate/london")
	if first.Status != http.StatusOK {
		t.Fatalf("first page: %d", first.Status)
	}
	mustContain(t, first.Body, `<nav class="govuk-pagination"`, "Confirmed members 1 to 100")
	// Forward to the end, then back to the start, through the pagination links.
	var seen []string
	body := first.Body
	for i := 0; ; i++ {
		if i == 5 {
			t.Fatal("more than 5 pages of 100 for 250 members")
		}
		seen = append(seen, emailsOn(body)...)
		_, next := pageLinks(body)
		if next == "" {
			break
		}
		if strings.Contains(next, "@") {
			t.Fatalf("a page link shows an address: %s", next)
		}
		r := s.get(next)
		if r.Status != http.StatusOK {
			t.Fatalf("next page: %d\n%s", r.Status, r.Body)
		}
		body = r.Body
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("the pages list %d members (want %d), in order, each once", len(seen), len(want))
	}
	mustContain(t, body, "Confirmed members 201 to 250")
	prev, _ := pageLinks(body)
	second := s.get(prev)
	mustContain(t, second.Body, "Confirmed members 101 to 200")
	if got := emailsOn(second.Body); !slices.Equal(got, want[100:200]) {
		t.Fatalf("going back lists %d members, not the second page", len(got))
	}
	prev, _ = pageLinks(second.Body)
	back := s.get(prev)
	if got := emailsOn(back.Body); !slices.Equal(got, want[:100]) {
		t.Fatal("going back twice does not list the first page")
	}
	if p, n := pageLinks(back.Body); p != "" || n == "" {
		t.Fatalf("the first page, reached going back, links prev %q next %q", p, n)
	}

	// A cursor is bound to its list: tampered, or used for another group or status, it is refused.
	_, next := pageLinks(first.Body)
	u, _ := url.Parse(next)
	cursor := u.Query().Get("page")
	for name, path := range map[string]string{
		"tampered":      "/facilitate/london?page=" + url.QueryEscape(cursor[:len(cursor)-2]+"AA"),
		"another group": "/facilitate/midlands?page=" + url.QueryEscape(cursor),
		"another list":  "/facilitate/london?status=left&page=" + url.QueryEscape(cursor),
	} {
		r := s.get(path)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "That page of the members list is out of date") {
			t.Errorf("a %s cursor: %d", name, r.Status)
		}
	}
}

func TestTheCSVOfATwentyThousandMemberGroupIsCompleteAndTheResponseSmall(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSiteWith(t, siteOptions{extra: map[string]string{"ADMIN_EMAILS": admin}, noStream: true})
	want := importMembers(t, s, "midlands", 20000)
	u, _ := url.Parse(s.URL)
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: s.sessionFor(t, admin)}})

	page := s.get("/facilitate/midlands")
	if n := len(emailsOn(page.Body)); page.Status != http.StatusOK || n != pg.MembersPerPage {
		t.Errorf("members page of 20,000: %d with %d rows, want %d", page.Status, n, pg.MembersPerPage)
	}
	if len(page.Body) > 200<<10 {
		t.Errorf("the members page is %d bytes", len(page.Body))
	}

	// As Lambda answers it, through the API Gateway adapter: a redirect, far below 6 MB.
	ev := loadEvent(t, "web-get-join.json")
	ev.RawPath, ev.RequestContext.HTTP.Path = "/facilitate/midlands/members.csv", "/facilitate/midlands/members.csv"
	ev.Cookies = []string{"session=" + s.sessionFor(t, admin)}
	lambdaResp, err := httpadapter.NewV2(s.App.Handler()).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(lambdaResp); lambdaResp.StatusCode != http.StatusSeeOther || len(out) > 4096 {
		t.Errorf("the Lambda response to the CSV of 20,000 members: %d, %d bytes", lambdaResp.StatusCode, len(out))
	}

	r := s.get("/facilitate/midlands/members.csv")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("CSV: %d, want 303 to the file", r.Status)
	}
	if len(r.Body) > 1024 {
		t.Errorf("the web response is %d bytes; the file should not be in it", len(r.Body))
	}
	link, err := url.Parse(r.Header.Get("Location"))
	if err != nil || link.Scheme != "http" && link.Scheme != "https" {
		t.Fatalf("CSV redirect to %q", r.Header.Get("Location"))
	}
	q := link.Query()
	if q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Expires") != "300" || !strings.Contains(link.Path, "/members/midlands/") {
		t.Errorf("the link is not a presigned GET valid for 5 minutes: %s", link.Redacted())
	}
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetching the CSV: %d\n%s", resp.StatusCode, data)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "midlands-confirmed-members.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	records, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != len(want)+1 {
		t.Fatalf("the CSV has %d rows, want %d and a header", len(records)-1, len(want))
	}
	var got []string
	for _, rec := range records[1:] {
		got = append(got, rec[0])
		if strings.HasPrefix(rec[1], "=") {
			t.Fatalf("CSV name cell %q is not neutralised", rec[1])
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatal("the CSV does not list every member once")
	}
	if !strings.Contains(string(data), `'=HYPERLINK(`) {
		t.Error("the CSV lost the neutralised formula names")
	}
}
