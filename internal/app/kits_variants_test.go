package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// takeKit makes a group's variant of round 3's kit from another kit ("core" or a group).
func (s *kitSite) takeKit(group, from string) {
	s.t.Helper()
	r := s.post("/kits/3/groups/"+group, url.Values{"from": {from}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/groups/"+group+"?done=created" {
		s.t.Fatalf("%s takes %s: %d %q\n%s", group, from, r.Status, r.Header.Get("Location"), r.Body)
	}
}

// editVariant changes a section's body in a group's variant through its form.
func (s *kitSite) editVariant(group, id, title, body string) {
	s.t.Helper()
	path := "/kits/3/groups/" + group + "/sections/" + id
	r := s.post(path, sectionForm(s.from(path), title, body, "Changed "+title))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/kits/3/groups/"+group+"?done=saved#"+id) {
		s.t.Fatalf("edit %s of %s: %d %q\n%s", title, group, r.Status, r.Header.Get("Location"), r.Body)
	}
}

// editCore changes a section's body in the core kit through its form.
func (s *kitSite) editCore(id, title, body string) {
	s.t.Helper()
	path := "/kits/3/sections/" + id
	if r := s.post(path, sectionForm(s.from(path), title, body, "Core: "+title)); r.Status != http.StatusSeeOther {
		s.t.Fatalf("edit core %s: %d\n%s", title, r.Status, r.Body)
	}
}

var (
	oursField   = regexp.MustCompile(`name="ours" value="([0-9a-f]{64})"`)
	theirsField = regexp.MustCompile(`name="theirs" value="([0-9a-f]{64})"`)
	keyFields   = regexp.MustCompile(`name="key-(\d+)" value="([^"]+)">\s*<input type="hidden" name="texts-\d+" value="([0-9a-f]+)"`)
)

// mergeForm reads a merge page's form: the revisions it is for and each question's key
// and fingerprint, in order.
type mergeForm struct {
	ours, theirs string
	keys, texts  []string
}

func readMergeForm(t *testing.T, r response) mergeForm {
	t.Helper()
	o, th := oursField.FindStringSubmatch(r.Body), theirsField.FindStringSubmatch(r.Body)
	if o == nil || th == nil {
		t.Fatalf("no merge form: %d\n%s", r.Status, r.Body)
	}
	f := mergeForm{ours: o[1], theirs: th[1]}
	for _, m := range keyFields.FindAllStringSubmatch(r.Body, -1) {
		f.keys, f.texts = append(f.keys, m[2]), append(f.texts, m[3])
	}
	return f
}

// values is the form with answers (choice, own text) by question, and an action.
func (f mergeForm) values(action string, answers map[int][2]string) url.Values {
	v := url.Values{"ours": {f.ours}, "theirs": {f.theirs}, "action": {action}}
	for i := range f.keys {
		n := strconv.Itoa(i)
		v.Set("key-"+n, f.keys[i])
		v.Set("texts-"+n, f.texts[i])
		if a, ok := answers[i]; ok {
			v.Set("choice-"+n, a[0])
			v.Set("own-"+n, a[1])
		}
	}
	return v
}

func TestLondonAndTheMidlandsVaryTheCoreKitAndBringInItsChanges(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	midFac := testenv.Address("kit-mid-fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	s.createKit()
	welcome := s.addSection("Welcome", pg.AudienceParticipant, "Welcome.\n\nWe start at ten.\n")
	exercise := s.addSection("Exercise", pg.AudienceParticipant, "Step one.\n\nStep two.\n")
	s.addSection("Timing", pg.AudienceFacilitator, "Keep time.\n")
	closing := s.addSection("Closing", pg.AudienceParticipant, "Thanks.\n")

	// London's facilitator finds London's version from the core kit, and takes the core
	// kit: the same document, no copy.
	mustContain(t, s.get("/kits/3").Body, `href="/kits/3/groups/london"`)
	r := s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "London has no version of this round’s kit yet", "Use the core kit")
	s.takeKit("london", pg.CoreKit)
	core, err := s.App.Services.Kits.Store.KitHead(ctx, 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	london, err := s.App.Services.Kits.Store.KitHead(ctx, 3, "london")
	if err != nil {
		t.Fatal(err)
	}
	if london.Revision.Hash != core.Revision.Hash || london.Revision.Number != 1 {
		t.Errorf("London's first revision is %d %s, want 1 and the core kit's head %s", london.Revision.Number, london.Revision.Hash, core.Revision.Hash)
	}
	r = s.get("/kits/3/groups/london?done=created")
	mustContain(t, r.Body, "Your group’s version of the kit has been made", "London’s version: Research with users",
		"Based on the core kit for round 3, revision 5; licence Open Government Licence v3.0", "From the core kit")
	if strings.Contains(r.Body, "Changed here") {
		t.Error("a section just copied is shown as changed here")
	}
	// Taking it twice is refused.
	if r := s.post("/kits/3/groups/london", url.Values{"from": {pg.CoreKit}}); r.Status != http.StatusConflict {
		t.Errorf("London takes the kit again: %d", r.Status)
	}

	// London changes two sections; the core kit then changes one of them, and another.
	s.editVariant("london", welcome, "Welcome", "Welcome to London.\n\nWe start at ten.\n")
	s.editVariant("london", exercise, "Exercise", "Step one.\n\nStep two, in pairs.\n")
	r = s.get("/kits/3/groups/london")
	if n := strings.Count(r.Body, "Changed here"); n != 2 {
		t.Errorf("London's page shows %d sections changed here, want 2\n%s", n, r.Body)
	}
	if n := strings.Count(r.Body, "From the core kit"); n != 2 {
		t.Errorf("London's page shows %d sections from the core kit, want 2", n)
	}
	s.editCore(welcome, "Welcome", "Welcome, everyone.\n\nWe start at ten.\n")
	s.editCore(closing, "Closing", "Thanks for coming.\n")

	// The Midlands take London's version.
	s.as(midFac)
	r = s.get("/kits/3/groups/midlands")
	mustContain(t, r.Body, "Use the core kit", "Use London’s version")
	s.takeKit("midlands", "london")
	r = s.get("/kits/3/groups/midlands")
	mustContain(t, r.Body, "Welcome to London.", "From London’s version",
		"Based on London’s version, revision 3, which is based on the core kit for round 3, revision 5; licence Open Government Licence v3.0")
	// … and change the exercise too.
	s.editVariant("midlands", exercise, "Exercise", "Step one, alone.\n\nStep two, in pairs.\n")

	// London is two changes behind the core kit, and brings them in: the closing merges,
	// the welcome clashes and London writes its own.
	s.as(s.fac)
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "The core kit has had 2 changes since you copied it", "Bring them in")
	r = s.get("/kits/3/groups/london/merge")
	mustContain(t, r.Body, "1 change clashes", "Welcome to London.", "Welcome, everyone.", "Keep yours", "Take the core kit’s", "Write your own")
	f := readMergeForm(t, r)
	if len(f.keys) != 1 || f.keys[0] != welcome+".body" {
		t.Fatalf("want one question, on the welcome's content: %v", f.keys)
	}
	// Finishing with the question unanswered is refused, and says which.
	r = s.post("/kits/3/groups/london/merge", f.values("finish", nil))
	if r.Status != http.StatusBadRequest {
		t.Fatalf("finish unanswered: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "There is a problem", `href="#choice-0">Select which text to keep for the content of “Welcome”`)
	r = s.post("/kits/3/groups/london/merge", f.values("finish", map[int][2]string{0: {pg.MergeOwn, "Welcome to London, everyone.\r\n\r\nWe start at ten.\r\n"}}))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/groups/london?done=brought" {
		t.Fatalf("bring the changes in: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3/groups/london?done=brought")
	mustContain(t, r.Body, "The changes have been brought in", "Welcome to London, everyone.", "Thanks for coming.", "Step two, in pairs.",
		"Based on the core kit for round 3, revision 7")
	if strings.Contains(r.Body, "since you") {
		t.Error("London is still shown behind the core kit")
	}
	// One merge revision, with two parents: London's previous head and the core's head.
	revs, err := s.App.Stores.Kits.KitVariantRevisions(ctx, 3, "london")
	if err != nil {
		t.Fatal(err)
	}
	core, _ = s.App.Services.Kits.Store.KitHead(ctx, 3, pg.CoreKit)
	if len(revs) != 4 || revs[0].Merged == nil || revs[0].Merged.Kit != pg.CoreKit || revs[0].Merged.Hash != core.Revision.Hash || revs[0].Parent != revs[1].Hash {
		t.Fatalf("London's revisions: want 4, the newest a merge of the core's head over London's previous one: %+v", revs)
	}
	mustContain(t, s.get("/kits/3/groups/london/history").Body, "Brought in 2 changes from the core kit", "a merge of revision 7 of the core kit")

	// The admins' lineage map: the Midlands are a change behind London, and two groups
	// changed the core's exercise.
	s.as(s.admin)
	r = s.get("/kits/3/lineage")
	mustContain(t, r.Body, "1 change behind London", "Up to date with the core kit", "Exercise</a>: changed by London, Midlands")

	// The Midlands bring London's change in: nothing clashes.
	s.as(midFac)
	r = s.get("/kits/3/groups/midlands")
	mustContain(t, r.Body, "London has made 1 change since you copied it")
	r = s.get("/kits/3/groups/midlands/merge")
	mustContain(t, r.Body, "None of the changes clashes")
	r = s.post("/kits/3/groups/midlands/merge", readMergeForm(t, r).values("finish", nil))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("the Midlands bring London's change in: %d\n%s", r.Status, r.Body)
	}
	r = s.get("/kits/3/groups/midlands")
	mustContain(t, r.Body, "Welcome to London, everyone.", "Thanks for coming.", "Step one, alone.",
		"Based on London’s version, revision 4, which is based on the core kit for round 3, revision 7")
	s.as(s.admin)
	mustContain(t, s.get("/kits/3/lineage").Body, "Up to date with London")
}

func TestAMemberReadsOnlyTheParticipantSectionsAndOnlyFacilitatorsOfTheGroupWrite(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	s.createKit()
	open := s.addSection("Warm-up", pg.AudienceParticipant, "Bring three questions.\n")
	secret := s.addSection("Facilitators’ briefing", pg.AudienceFacilitator, "The answers are in the envelope.\n")
	s.takeKit("london", pg.CoreKit)

	// A member of London reads its version for participants: no facilitator-only section,
	// no edit links, no history.
	member := testenv.Address("kit-member")
	form := joinForm(member)
	form.Set("groups", "london")
	if r := s.post("/join/groups", form); r.Status != http.StatusSeeOther {
		t.Fatalf("join London: %d\n%s", r.Status, r.Body)
	}
	link := testenv.Link(t, testenv.LastMail(t, member).Body.Text, "/join/confirm")
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d", r.Status)
	}
	s.as(member)
	r := s.get("/kits/3/groups/london")
	if r.Status != http.StatusOK {
		t.Fatalf("a member reads their group's version: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Bring three questions.", "Based on the core kit for round 3")
	for _, hidden := range []string{"Facilitators’ briefing", "The answers are in the envelope", secret, "Facilitators only", "/sections/" + open, "/history", `name="from"`} {
		if strings.Contains(r.Body, hidden) {
			t.Errorf("a member's page carries %q", hidden)
		}
	}
	for _, path := range []string{"/kits/3/groups/london/history", "/kits/3/groups/london/sections/" + secret, "/kits/3/groups/london/merge", "/kits/3/lineage"} {
		if r := s.get(path); r.Status != http.StatusForbidden {
			t.Errorf("a member GET %s: %d", path, r.Status)
		}
	}
	if r := s.post("/kits/3/groups/london/sections/"+open, sectionForm(strings.Repeat("a", 64), "Warm-up", "Hacked", "x")); r.Status != http.StatusForbidden {
		t.Errorf("a member saves a section: %d", r.Status)
	}
	// Not a member of the Midlands: nothing of theirs.
	if r := s.get("/kits/3/groups/midlands"); r.Status != http.StatusForbidden {
		t.Errorf("a member reads another group's version: %d", r.Status)
	}
	// The service itself never hands a member a facilitator-only section.
	v, err := s.App.Services.KitVariants.Variant(ctx, pg.Caller{Email: member}, 3, "london")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Doc.Section(secret); ok || !v.Participant || len(v.HTML) != 1 || len(v.Origins) != 1 || v.Revision != "" {
		t.Errorf("the member's variant carries facilitator-only content: %+v", v)
	}
	// Someone anonymous is sent to sign in.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := anon.Get(s.URL + "/kits/3/groups/london")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign-in" {
		t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A facilitator of another group reads London's version whole, but cannot write it.
	midFac := testenv.Address("kit-mid-fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	s.as(midFac)
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "Facilitators’ briefing")
	if strings.Contains(r.Body, "/sections/"+open) {
		t.Error("another group's facilitator is offered London's edit links")
	}
	londonHead, _ := s.App.Services.Kits.Store.KitHead(ctx, 3, "london")
	if r := s.post("/kits/3/groups/london/sections/"+open, sectionForm(londonHead.Revision.Hash, "Warm-up", "Midlands wrote this", "x")); r.Status != http.StatusForbidden {
		t.Errorf("another group's facilitator saves London's section: %d", r.Status)
	}
	if r := s.post("/kits/3/groups/london", url.Values{"from": {pg.CoreKit}}); r.Status != http.StatusForbidden {
		t.Errorf("another group's facilitator makes London's version: %d", r.Status)
	}
	if _, err := s.App.Services.KitVariants.SaveVariantSection(ctx, pg.Caller{Email: midFac, Facilitates: []string{"midlands"}}, 3, "london", londonHead.Revision.Hash, pg.KitSection{ID: open, Title: "Warm-up", Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Body: "x"}, "x"); pg.KindOf(err) != pg.KindForbidden {
		t.Errorf("the service lets another group's facilitator write London's version: %v", err)
	}
	s.as(s.fac)
	mustContain(t, s.get("/kits/3/groups/london").Body, "Bring three questions.")
}

func TestAMergeLeftHalfDoneResumesAndStartsAgainWhenTheParentMovesOn(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	a := s.addSection("Part A", pg.AudienceParticipant, "A as written.\n")
	b := s.addSection("Part B", pg.AudienceParticipant, "B as written.\n")
	s.takeKit("london", pg.CoreKit)
	s.editVariant("london", a, "Part A", "A, London's way.\n")
	s.editVariant("london", b, "Part B", "B, London's way.\n")
	s.editCore(a, "Part A", "A, the core's way.\n")
	s.editCore(b, "Part B", "B, the core's way.\n")

	r := s.get("/kits/3/groups/london/merge")
	f := readMergeForm(t, r)
	if len(f.keys) != 2 {
		t.Fatalf("want two questions: %v\n%s", f.keys, r.Body)
	}
	// Abandoned: the answers go, London stays as it was.
	if r := s.post("/kits/3/groups/london/merge", f.values("save", map[int][2]string{0: {pg.MergeTakeTheirs, ""}})); r.Status != http.StatusOK {
		t.Fatalf("save an answer: %d\n%s", r.Status, r.Body)
	}
	r = s.post("/kits/3/groups/london/merge/abandon", url.Values{})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/groups/london?done=abandoned" {
		t.Fatalf("abandon: %d %q", r.Status, r.Header.Get("Location"))
	}
	r = s.get("/kits/3/groups/london?done=abandoned")
	mustContain(t, r.Body, "You have abandoned bringing in the changes", "A, London&#39;s way.", "The core kit has had 2 changes since you copied it")
	if strings.Contains(s.get("/kits/3/groups/london/merge").Body, "checked") {
		t.Error("an abandoned merge's answers are still there")
	}

	// Half done: one answer saved, the page left, and resumed later.
	r = s.post("/kits/3/groups/london/merge", f.values("save", map[int][2]string{0: {pg.MergeTakeTheirs, ""}, 1: {pg.MergeKeepOurs, ""}}))
	mustContain(t, r.Body, "Your answers have been saved")
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "Carry on bringing them in")
	r = s.get("/kits/3/groups/london/merge")
	if strings.Count(r.Body, " checked") != 2 || !strings.Contains(r.Body, `id="choice-0-theirs" name="choice-0" type="radio" value="theirs" checked`) {
		t.Fatalf("the answers saved are not shown again:\n%s", r.Body)
	}

	// The core kit moves on (B again) before London finishes: the page says so and
	// starts again from the core's new head, keeping the answer on A, which still applies.
	s.editCore(b, "Part B", "B, the core's second way.\n")
	r = s.post("/kits/3/groups/london/merge", f.values("finish", map[int][2]string{0: {pg.MergeTakeTheirs, ""}, 1: {pg.MergeKeepOurs, ""}}))
	if r.Status != http.StatusConflict {
		t.Fatalf("finish over a parent that moved on: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "has changed since you started bringing in the changes", "keeping 1 of your answers", "1 of your answers no longer apply", "B, the core&#39;s second way.", "up to its revision 6")
	if strings.Contains(s.get("/kits/3/groups/london").Body, "the core&#39;s way") {
		t.Error("a merge was saved over a parent that moved on")
	}
	f2 := readMergeForm(t, r)
	if f2.theirs == f.theirs || len(f2.keys) != 2 {
		t.Fatalf("the merge did not start again from the core's new head: %+v", f2)
	}
	if !strings.Contains(r.Body, `value="theirs" checked`) || strings.Count(r.Body, " checked") != 1 {
		t.Errorf("want the answer on A kept and the one on B dropped:\n%s", r.Body)
	}
	r = s.post("/kits/3/groups/london/merge", f2.values("finish", map[int][2]string{0: {pg.MergeTakeTheirs, ""}, 1: {pg.MergeKeepOurs, ""}}))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("finish: %d\n%s", r.Status, r.Body)
	}
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "A, the core&#39;s way.", "B, London&#39;s way.", "Based on the core kit for round 3, revision 6")
	if strings.Contains(r.Body, "since you") {
		t.Error("London is still behind after the merge")
	}
	// Nothing left to bring in.
	mustContain(t, s.get("/kits/3/groups/london/merge").Body, "there is nothing to bring in")
}
