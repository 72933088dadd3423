package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
	"github.com/peergroups/peergroups/internal/testenv"
)

// kitSite is a site with round 3 and a facilitator of London signed in.
type kitSite struct {
	*site
	admin, fac string
}

func newKitSite(t *testing.T) *kitSite {
	t.Helper()
	admin := testenv.Address("kit-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 3, Title: "User research", Summary: "Doing it well.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("kit-fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	k := &kitSite{site: s, admin: admin, fac: fac}
	k.as(fac)
	return k
}

// as signs the site's browser in as email.
func (s *kitSite) as(email string) {
	s.t.Helper()
	u, _ := url.Parse(s.URL)
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: s.sessionFor(s.t, email), Path: "/"}})
}

var fromField = regexp.MustCompile(`name="from" value="([0-9a-f]{64})"`)

// from returns the revision a section's form starts from.
func (s *kitSite) from(path string) string {
	s.t.Helper()
	r := s.get(path)
	m := fromField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		s.t.Fatalf("GET %s: %d, no revision in the form\n%s", path, r.Status, r.Body)
	}
	return m[1]
}

// createKit makes round 3's core kit through its form.
func (s *kitSite) createKit() {
	s.t.Helper()
	r := s.post("/kits/3", url.Values{"title": {"Research with users"}, "summary": {"A half-day session."}, "licence": {pg.LicenceOGL}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=created" {
		s.t.Fatalf("create kit: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
}

// addSection adds a section through its form and returns its ID.
func (s *kitSite) addSection(title, audience, body string) string {
	s.t.Helper()
	r := s.post("/kits/3/sections", url.Values{"from": {s.from("/kits/3/sections/new")}, "title": {title}, "kind": {pg.SectionHandout}, "audience": {audience}, "body": {body}, "note": {"Added " + title}})
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/kits/3?done=saved#") {
		s.t.Fatalf("add section: %d %q\n%s", r.Status, loc, r.Body)
	}
	return strings.TrimPrefix(loc, "/kits/3?done=saved#")
}

func sectionForm(from, title, body, note string) url.Values {
	return url.Values{"from": {from}, "title": {title}, "kind": {pg.SectionHandout}, "audience": {pg.AudienceParticipant}, "body": {body}, "note": {note}}
}

func TestAFacilitatorWritesTheCoreKitSectionBySectionWithHistory(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	if r := s.get("/kits/3"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Create the core kit") {
		t.Fatalf("a round without a kit: %d\n%s", r.Status, r.Body)
	}
	r := s.post("/kits/3", url.Values{"summary": {"A session."}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("a kit without a title or licence: %d", r.Status)
	}
	mustContain(t, r.Body, "There is a problem", `href="#title">Enter the kit’s title`, `href="#licence">Select the licence the kit is shared under`, "A session.")
	s.createKit()
	r = s.get("/kits/3?done=created")
	mustContain(t, r.Body, "The core kit has been created", "Core kit: Research with users", "Open Government Licence v3.0", "Revision 1", s.fac)

	// A save without a change note is refused, and keeps what was typed.
	from := s.from("/kits/3/sections/new")
	r = s.post("/kits/3/sections", url.Values{"from": {from}, "title": {"Welcome"}, "kind": {pg.SectionSlides}, "audience": {pg.AudienceParticipant}, "body": {"Hello everyone"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("a section without a change note: %d", r.Status)
	}
	mustContain(t, r.Body, `href="#note">Enter a short note of what you changed`, "Hello everyone", `value="Welcome"`)

	welcome := s.addSection("Welcome", pg.AudienceParticipant, "# Welcome\r\n\r\nWe start at ten.  \r\n")
	notes := s.addSection("Running the session", pg.AudienceFacilitator, "Keep time.\r\n")
	r = s.get("/kits/3")
	mustContain(t, r.Body, `id="`+welcome+`"`, "We start at ten.", "Running the session", "Facilitators only", "Revision 3")

	// Edit one section: a new revision, the other section unchanged.
	r = s.post("/kits/3/sections/"+welcome, sectionForm(s.from("/kits/3/sections/"+welcome), "Welcome", "We start at half past ten.", "Later start"))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=saved#"+welcome {
		t.Fatalf("edit: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3")
	mustContain(t, r.Body, "We start at half past ten.", "Keep time.", "Revision 4")
	if strings.Contains(r.Body, "We start at ten.") {
		t.Error("the old text is still shown")
	}
	r = s.get("/kits/3/history")
	mustContain(t, r.Body, "History of the kit", "Created the kit", "Added Welcome", "Added Running the session", "Later start", s.fac)
	if strings.Index(r.Body, "Later start") > strings.Index(r.Body, "Created the kit") {
		t.Error("history is not newest first")
	}
	if r := s.get("/kits/3/sections/" + notes + "x"); r.Status != http.StatusNotFound {
		t.Errorf("a section that does not exist: %d", r.Status)
	}
	if r := s.get("/kits/99"); r.Status != http.StatusNotFound {
		t.Errorf("a round that does not exist: %d", r.Status)
	}

	// The revision is one JSON document in the kits bucket at its content's address,
	// with its text normalised (LF, no trailing spaces, one final newline).
	head, err := s.App.Services.Kits.Store.KitHead(context.Background(), 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s3exports.NewClient(testenv.AWSConfig(t)).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(s3kits.Key(head.Revision.Hash))})
	if err != nil {
		t.Fatalf("the head revision is not in the kits bucket at %s: %v", s3kits.Key(head.Revision.Hash), err)
	}
	defer out.Body.Close()
	stored, _ := io.ReadAll(out.Body)
	for _, want := range []string{`"licence":"OGL-3.0"`, `"body":"Keep time.\n"`, `"audience":"facilitator"`} {
		if !strings.Contains(string(stored), want) {
			t.Errorf("stored revision lacks %s:\n%s", want, stored)
		}
	}
	if strings.Contains(string(stored), `\r`) {
		t.Errorf("stored revision keeps CR:\n%s", stored)
	}
}

func TestKitMarkdownCannotCarryScriptsLinksToJavascriptRawHTMLOrRemoteImages(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Tricks", pg.AudienceParticipant, "Fine **bold** text.\n\n<script>alert('kit')</script>\n\n<div onmouseover=\"steal()\">raw html</div>\n\n[a link](javascript:alert('kit'))\n\n![tracker](https://evil.example/pixel.png)\n\n[GOV.UK](https://www.gov.uk/)\n")
	r := s.get("/kits/3")
	mustContain(t, r.Body, "<strong>bold</strong>", `href="https://www.gov.uk/"`, "tracker")
	for _, bad := range []string{"<script>alert", "onmouseover", "javascript:", "evil.example", "steal()"} {
		if strings.Contains(r.Body, bad) {
			t.Errorf("the kit page carries %q", bad)
		}
	}
}

func TestTwoFacilitatorsSavingDifferentSectionsAtOnceBothLand(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	a := s.addSection("Part A", pg.AudienceParticipant, "A text")
	b := s.addSection("Part B", pg.AudienceParticipant, "B text")
	// Both open their section's form on the same revision.
	fromA, fromB := s.from("/kits/3/sections/"+a), s.from("/kits/3/sections/"+b)
	if r := s.post("/kits/3/sections/"+a, sectionForm(fromA, "Part A", "A changed by one", "One")); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d\n%s", r.Status, r.Body)
	}
	s.as(s.admin)
	r := s.post("/kits/3/sections/"+b, sectionForm(fromB, "Part B", "B changed by two", "Two"))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=merged#"+b {
		t.Fatalf("second save over a moved head: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3?done=merged")
	mustContain(t, r.Body, "A changed by one", "B changed by two", "together with changes someone else saved meanwhile", "Revision 5")

	// Two saves of different sections at the same instant, through the service: both land.
	kit, err := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{a, b} {
		wg.Go(func() {
			sec, _ := kit.Doc.Section(id)
			sec.Body = "at the same instant " + id
			_, errs[i] = s.App.Services.Kits.SaveSection(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3, kit.Revision, sec, "Same instant")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("a save at the same instant failed: %v", err)
		}
	}
	r = s.get("/kits/3")
	mustContain(t, r.Body, "at the same instant "+a, "at the same instant "+b, "Revision 7")
}

func TestTheSameSectionSavedByTwoFacilitatorsShowsBothTextsAndLosesNothing(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	a := s.addSection("Part A", pg.AudienceParticipant, "The original text")
	from := s.from("/kits/3/sections/" + a)
	if r := s.post("/kits/3/sections/"+a, sectionForm(from, "Part A", "Their new text", "Theirs")); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d\n%s", r.Status, r.Body)
	}
	s.as(s.admin)
	r := s.post("/kits/3/sections/"+a, sectionForm(from, "Part A", "My own text\r\nwith two lines", "Mine"))
	if r.Status != http.StatusConflict {
		t.Fatalf("a clash: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "There is a problem", `href="#body">Someone else changed this section`, "Someone else changed this section",
		">Their new text\n</textarea>", ">My own text\nwith two lines\n</textarea>", `value="Mine"`)
	again := fromField.FindStringSubmatch(r.Body)
	if again == nil || again[1] == from {
		t.Fatalf("the conflict page does not start from the new head")
	}
	// Nothing was saved over theirs.
	if r := s.get("/kits/3"); !strings.Contains(r.Body, "Their new text") || strings.Contains(r.Body, "My own text") {
		t.Error("the clash was saved")
	}
	// Saved again from the new head, it lands.
	r = s.post("/kits/3/sections/"+a, sectionForm(again[1], "Part A", "Their new text, and mine", "Mine, merged by hand"))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("saved again: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, s.get("/kits/3").Body, "Their new text, and mine")
	mustContain(t, s.get("/kits/3/history").Body, "Theirs", "Mine, merged by hand")
}

func TestAKitRevisionMissingFromS3IsAFaultAndABogusRevisionIsNotFound(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	a := s.addSection("Part A", pg.AudienceParticipant, "Some text")
	// A form that names a revision there never was.
	r := s.post("/kits/3/sections/"+a, sectionForm(strings.Repeat("0", 64), "Part A", "Changed", "Note"))
	if r.Status != http.StatusNotFound || !strings.Contains(r.Body, "That revision of the kit cannot be found.") {
		t.Errorf("a revision that does not exist: %d\n%s", r.Status, r.Body)
	}
	// The head's document gone from the bucket: the service says so, and logs it.
	head, err := s.App.Services.Kits.Store.KitHead(context.Background(), 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3exports.NewClient(testenv.AWSConfig(t)).DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(s3kits.Key(head.Revision.Hash))}); err != nil {
		t.Fatal(err)
	}
	r = s.get("/kits/3")
	if r.Status != http.StatusInternalServerError || !strings.Contains(r.Body, "Sorry, there is a problem with the service") {
		t.Errorf("the head's document missing: %d\n%s", r.Status, r.Body)
	}
}

// In AWS, two saves on the same head at the same moment make DynamoDB cancel one of the
// transactions for a TransactionConflict (DynamoDB Local never does: a proxy does it
// here, to every other transaction). The save reads the head again, merges and lands:
// nobody is shown an error, and nothing is lost.
func TestKitSavesCancelledForATransactionConflictAreMergedAndLand(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	proxy := testenv.NewConflictingDynamo(t, 2)
	dynamo.UseClient(s.App.Store, dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
		o.DisableValidateResponseChecksum = true
	}))
	titles := []string{"Welcome", "Warm-up", "Interviews", "Wrap-up"}
	for _, title := range titles {
		s.addSection(title, pg.AudienceParticipant, "About "+title+".")
	}
	if proxy.Cancelled() == 0 {
		t.Fatal("the proxy cancelled no transaction: the test tested nothing")
	}
	r := s.get("/kits/3")
	mustContain(t, r.Body, "About Welcome.", "About Warm-up.", "About Interviews.", "About Wrap-up.", "Revision 5")
	r = s.get("/kits/3/history")
	mustContain(t, r.Body, "Added Welcome", "Added Warm-up", "Added Interviews", "Added Wrap-up")
}

// flakyRenderer is the render function out of reach until it is told otherwise.
type flakyRenderer struct{ up atomic.Bool }

func (f *flakyRenderer) RenderMarkdown(ctx context.Context, texts []string) ([]pg.RenderedText, error) {
	if !f.up.Load() {
		return nil, errors.New("render function: 503 Service Unavailable")
	}
	return devstack.Renderer{}.RenderMarkdown(ctx, texts)
}

// When the render function cannot be reached, a save still lands, and the kit shows
// the text as it was written (escaped); the first view once it is back renders it,
// and keeps the HTML beside the revision so that it is rendered once.
func TestASaveLandsWhenTheRenderFunctionIsDownAndIsRenderedOnceItIsBack(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	render := &flakyRenderer{}
	s.App.Services.Kits.Renderer = render
	s.createKit()
	s.addSection("Warm-up", pg.AudienceParticipant, "Bring *three* questions.\n\nAnd <b>a pen</b>.")
	r := s.get("/kits/3")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Bring *three* questions.") || !strings.Contains(r.Body, "And &lt;b&gt;a pen&lt;/b&gt;.") || strings.Contains(r.Body, "<em>three</em>") {
		t.Fatalf("with the render function down, want the text as written, escaped: %d\n%s", r.Status, r.Body)
	}
	head, err := s.App.Services.Kits.Store.KitHead(context.Background(), 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	objects := s3exports.NewClient(testenv.AWSConfig(t))
	key := aws.String(s3kits.HTMLKey(head.Revision.Hash))
	if _, err := objects.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: key}); err == nil {
		t.Fatal("HTML was kept for a revision that could not be rendered")
	}
	render.up.Store(true)
	r = s.get("/kits/3")
	if !strings.Contains(r.Body, "<em>three</em>") || strings.Contains(r.Body, "<b>a pen</b>") {
		t.Fatalf("once the render function is back, want the Markdown rendered safely:\n%s", r.Body)
	}
	if _, err := objects.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: key}); err != nil {
		t.Fatalf("the HTML is not kept beside the revision at %s: %v", *key, err)
	}
	render.up.Store(false)
	if r = s.get("/kits/3"); !strings.Contains(r.Body, "<em>three</em>") {
		t.Fatalf("a kept rendering is not used when the render function is down again:\n%s", r.Body)
	}
}

// A round cannot be published while its core kit has accessibility errors: the admin
// is told what they are, each linking to the section's text, and once a facilitator
// has fixed them the round is published.
func TestARoundIsNotPublishedUntilItsCoreKitIsAccessible(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	ok := s.addSection("Welcome", pg.AudienceParticipant, "### Before you come\n\nRead the [GOV.UK Service Manual](https://www.gov.uk/service-manual).")
	bad := s.addSection("Slides", pg.AudienceParticipant, "![](/assets/journey-map.png)\n\nThe slides: [click here](https://example.org/slides).")
	r := s.get("/kits/3")
	if !strings.Contains(r.Body, "Accessibility errors to fix") || !strings.Contains(r.Body, `href="/kits/3/sections/`+bad+`#body"`) {
		t.Fatalf("the kit page does not list its accessibility errors:\n%s", r.Body)
	}
	s.as(s.admin)
	r = s.post("/admin/rounds/3/publish", url.Values{})
	if r.Status != http.StatusConflict {
		t.Fatalf("publishing a round whose core kit has accessibility errors: %d, want 409\n%s", r.Status, r.Body)
	}
	for _, want := range []string{"govuk-error-summary", "cannot be published until its core kit’s accessibility errors are fixed", `href="/kits/3/sections/` + bad + `#body"`, "has no description", "“click here” does not say where the link goes"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the refusal lacks %q", want)
		}
	}
	if strings.Contains(r.Body, `sections/`+ok+`#body`) {
		t.Error("a section with no error is listed")
	}
	if !strings.Contains(r.Body, "<title>Error: Round 3") || !strings.Contains(r.Body, `<h1 class="govuk-heading-l">Round 3: `) {
		t.Error("the refusal's title does not start with \"Error: \" (and its heading without)")
	}
	round, _, err := s.App.Services.Rounds.Round(context.Background(), 3)
	if err != nil || round.State != pg.RoundDraft {
		t.Fatalf("the round is %q (%v), want still a draft", round.State, err)
	}
	s.as(s.fac)
	if r := s.post("/kits/3/sections/"+bad, url.Values{"from": {s.from("/kits/3/sections/" + bad)}, "title": {"Slides"}, "kind": {pg.SectionSlides}, "audience": {pg.AudienceParticipant}, "body": {"![The journey map: five stages from sign-up to the event](/assets/journey-map.png)\n\n[The slides for the session](https://example.org/slides)."}, "note": {"Fixed the accessibility errors"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("fix the section: %d\n%s", r.Status, r.Body)
	}
	s.as(s.admin)
	if r := s.post("/admin/rounds/3/publish", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("publishing once the kit is fixed: %d, want 303\n%s", r.Status, r.Body)
	}
}
