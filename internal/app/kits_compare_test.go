package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// revisions returns the hashes of round 3's core kit's revisions, by number.
func (s *kitSite) revisions() map[int]string {
	s.t.Helper()
	revs, err := s.App.Services.Kits.Store.KitRevisions(context.Background(), 3, pg.CoreKit)
	if err != nil {
		s.t.Fatal(err)
	}
	m := map[int]string{}
	for _, r := range revs {
		m[r.Number] = r.Hash
	}
	return m
}

func comparePath(from, to string) string {
	return "/kits/3/compare?" + url.Values{"from": {from}, "to": {to}}.Encode()
}

// welcomeText is a long section: twenty paragraphs.
func welcomeText(word string) string {
	var sb strings.Builder
	for i := 1; i <= 20; i++ {
		w := "welcome"
		if i == 10 {
			w = word
		}
		fmt.Fprintf(&sb, "Paragraph %d of the %s.\r\n\r\n", i, w)
	}
	return sb.String()
}

func TestComparingTwoRevisionsMarksChangedWordsAndFoldsWhatDidNotChange(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()                                                                         // 1
	welcome := s.addSection("Welcome", pg.AudienceParticipant, welcomeText("welcome"))    // 2
	s.addSection("Running the session", pg.AudienceFacilitator, "Keep time.\n")           // 3
	tricky := s.addSection("Tricky", pg.AudienceParticipant, `Keep <b>this</b> & "that"`) // 4
	if r := s.post("/kits/3/sections/"+welcome, sectionForm(s.from("/kits/3/sections/"+welcome), "Welcome", welcomeText("greeting"), "One word")); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.Status, r.Body)
	} // 5
	if r := s.post("/kits/3/sections/"+tricky, sectionForm(s.from("/kits/3/sections/"+tricky), "Tricky", `Keep <script>alert(1)</script> & "that"`, "Script")); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.Status, r.Body)
	} // 6
	rev := s.revisions()

	// The history page offers the comparison, the two latest revisions chosen.
	r := s.get("/kits/3/history")
	mustContain(t, r.Body, `action="/kits/3/compare"`, "Compare two revisions", `<select class="govuk-select" id="from" name="from">`,
		`<option value="`+rev[5]+`" selected>Revision 5: One word`, `<option value="`+rev[6]+`" selected>Revision 6: Script`)

	r = s.get(comparePath(rev[3], rev[6]))
	if r.Status != http.StatusOK {
		t.Fatalf("compare: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Compare revision 3 with revision 6", "Revision 3 of the core kit", "Revision 6 of the core kit", s.fac,
		"1 section changed", "1 section added", "1 section unchanged",
		// One word of twenty paragraphs, said to screen readers, with the paragraphs
		// far from it folded away.
		`Paragraph 10 of the <del><span class="govuk-visually-hidden">removed: </span>welcome<span class="govuk-visually-hidden"> (end of removed text)</span></del> <ins><span class="govuk-visually-hidden">added: </span>greeting<span class="govuk-visually-hidden"> (end of added text)</span></ins>.`,
		"Paragraph 9 of the welcome.", "Paragraph 11 of the welcome.", "unchanged lines]",
		// The section added since, all of it marked, its markup shown as text.
		`<ins><span class="govuk-visually-hidden">added: </span>Keep &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;that&#34;`,
		`<strong class="govuk-tag govuk-tag--green">Added</strong>`,
		// The unchanged section, folded.
		`<details class="govuk-details"`, "1 section unchanged</span></summary>", "Running the session (facilitators only)")
	for _, not := range []string{"Paragraph 2 of the welcome.", "Keep time.", "<script>", "<b>"} {
		if strings.Contains(r.Body, not) {
			t.Errorf("the comparison shows %q", not)
		}
	}
	if strings.Index(r.Body, "Welcome") > strings.Index(r.Body, "Tricky") {
		t.Error("the sections are not in the kit's order")
	}

	// The same change, the other way round: the section is removed.
	r = s.get(comparePath(rev[6], rev[3]))
	mustContain(t, r.Body, "Compare revision 6 with revision 3", "1 section removed", `<strong class="govuk-tag govuk-tag--red">Removed</strong>`,
		`<del><span class="govuk-visually-hidden">removed: </span>Keep &lt;script&gt;`)

	// Markup changed inside a section stays text.
	r = s.get(comparePath(rev[4], rev[6]))
	mustContain(t, r.Body, "2 sections changed", "alert(1)", "&amp;", "&lt;")
	for _, not := range []string{"<script", "<b>", "</b>"} {
		if strings.Contains(r.Body, not) {
			t.Errorf("the comparison carries %q", not)
		}
	}
	// Two revisions with the same content (and so the same address).
	s.post("/kits/3/sections/"+tricky, sectionForm(s.from("/kits/3/sections/"+tricky), "Tricky", `Keep <b>this</b> & "that"`, "Back")) // 7
	r = s.get(comparePath(rev[5], s.revisions()[7]))
	mustContain(t, r.Body, "Compare revision 5 with revision 7", "Nothing: the two revisions have the same content.")
}

func TestComparingWithABadOrUnknownRevisionSaysSoWithoutAFault(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Welcome", pg.AudienceParticipant, "Hello.")
	rev := s.revisions()
	unknown := strings.Repeat("0", 64)
	for _, c := range []struct {
		name, path string
		status     int
		says       string
	}{
		{"not a hash", comparePath("not-a-hash", rev[2]), http.StatusNotFound, "The revision to compare from is not one of the revisions of round 3’s core kit"},
		{"markup for a hash", comparePath(rev[1], `<script>x</script>`), http.StatusNotFound, "The revision to compare with is not one of the revisions"},
		{"a hash the kit does not have", comparePath(rev[1], unknown), http.StatusNotFound, "The revision to compare with is not one of the revisions"},
		{"an upper-case hash", comparePath(strings.ToUpper(rev[1]), rev[2]), http.StatusNotFound, "The revision to compare from is not one"},
		{"a kit the round does not have", comparePath(rev[1], rev[2]) + "&tokit=london", http.StatusNotFound, "not one of the revisions of round 3’s london version"},
		{"a kit name that cannot be one", comparePath(rev[1], rev[2]) + "&fromkit=KIT%23x", http.StatusNotFound, "Round 3 has no such kit to compare from"},
		{"a round that does not exist", "/kits/99/compare?" + url.Values{"from": {rev[1]}, "to": {rev[2]}}.Encode(), http.StatusNotFound, "There is no round 99"},
		{"no revision to compare with", "/kits/3/compare?from=" + rev[1], http.StatusBadRequest, `<a href="#to">Select the revision to compare it with</a>`},
		{"no revisions at all", "/kits/3/compare", http.StatusBadRequest, `<a href="#from">Select the revision to compare from</a>`},
		{"the same revision twice", comparePath(rev[2], rev[2]), http.StatusOK, "Nothing: the two revisions have the same content."},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.get(c.path)
			if r.Status != c.status || !strings.Contains(r.Body, c.says) {
				t.Errorf("GET %s: %d, want %d saying %q\n%s", c.path, r.Status, c.status, c.says, r.Body)
			}
			if strings.Contains(r.Body, "<script>x") {
				t.Error("the page carries the address's markup")
			}
		})
	}
	// A form with a problem keeps what was chosen.
	r := s.get("/kits/3/compare?from=" + rev[1])
	mustContain(t, r.Body, "<title>Error: ", "History of the kit", `<option value="`+rev[1]+`" selected>Revision 1`, `class="govuk-select govuk-select--error" id="to"`)

	// A member cannot compare revisions: they may show facilitators' notes.
	member := testenv.Address("kit-member")
	s.joinAndConfirm(member)
	s.as(member)
	if r := s.get(comparePath(rev[1], rev[2])); r.Status != http.StatusForbidden {
		t.Errorf("a member compares revisions: %d", r.Status)
	}
}
