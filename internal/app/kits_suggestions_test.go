package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

var suggestionForm = regexp.MustCompile(`action="/kits/3/suggestions/([0-9a-z-]+)/accept"`)

// openSuggestions reads the IDs of the suggestions on the suggestions page, in order.
func (s *kitSite) openSuggestions() []string {
	s.t.Helper()
	r := s.get("/kits/3/suggestions")
	if r.Status != http.StatusOK {
		s.t.Fatalf("suggestions page: %d\n%s", r.Status, r.Body)
	}
	var ids []string
	for _, m := range suggestionForm.FindAllStringSubmatch(r.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// suggest offers a section of London's version to the core kit.
func (s *kitSite) suggest(id string) {
	s.t.Helper()
	r := s.post("/kits/3/groups/london/sections/"+id+"/suggest", url.Values{})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/groups/london?done=suggested#"+id {
		s.t.Fatalf("suggest %s: %d %q\n%s", id, r.Status, r.Header.Get("Location"), r.Body)
	}
}

// auditActions lists the audit trail's actions, newest first.
func auditActions(t *testing.T, s *kitSite) []string {
	t.Helper()
	entries, _, err := s.App.Stores.Network.Audit(context.Background(), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func TestLondonSuggestsAChangeAndTheCoreKitTakesItIn(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	s.createKit()
	welcome := s.addSection("Welcome", pg.AudienceParticipant, "Welcome.\n\nWe start at ten.\n")
	exercise := s.addSection("Exercise", pg.AudienceParticipant, "Step one.\n\nStep two.\n")
	s.takeKit("london", pg.CoreKit)
	s.editVariant("london", welcome, "Welcome", "Welcome to London.\n\nWe start at ten.\n")

	// Only the section changed here can be suggested.
	r := s.get("/kits/3/groups/london")
	if n := strings.Count(r.Body, "Suggest this change to the core kit"); n != 1 {
		t.Fatalf("London's page offers %d suggestions, want 1 (the changed welcome)\n%s", n, r.Body)
	}
	mustContain(t, r.Body, `action="/kits/3/groups/london/sections/`+welcome+`/suggest"`)
	if r := s.post("/kits/3/groups/london/sections/"+exercise+"/suggest", url.Values{}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "there is no change of London’s to suggest") {
		t.Errorf("suggest a section as the core kit has it: %d\n%s", r.Status, r.Body)
	}
	s.suggest(welcome)
	r = s.get("/kits/3/groups/london?done=suggested")
	mustContain(t, r.Body, "Your change has been suggested to the core kit", "Your suggestions to the core kit", "Waiting for an answer", "“Welcome”")
	// The same text twice is one suggestion.
	if r := s.post("/kits/3/groups/london/sections/"+welcome+"/suggest", url.Values{}); r.Status != http.StatusConflict {
		t.Errorf("suggest the same again: %d\n%s", r.Status, r.Body)
	}

	// Meanwhile the core kit changes another section.
	midFac := testenv.Address("kit-suggest-mid")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	s.as(midFac)
	s.editCore(exercise, "Exercise", "Step one.\n\nStep two, in pairs.\n")

	// Any facilitator, an editor of the core kit, sees it on the kit page and on its own,
	// with the words London changed marked.
	r = s.get("/kits/3")
	mustContain(t, r.Body, `<a class="govuk-link" href="/kits/3/suggestions">1 suggestion from groups</a>`)
	r = s.get("/kits/3/suggestions")
	mustContain(t, r.Body, "Suggestions from groups", "1 suggestion is waiting for an answer", `<h2 class="govuk-heading-m pg-wrap" id="section-1-title">Welcome</h2>`,
		"London’s suggestion", "based on revision 3 of the core kit",
		`Welcome<ins><span class="govuk-visually-hidden">added: </span> to London<span class="govuk-visually-hidden"> (end of added text)</span></ins>.`)
	ids := s.openSuggestions()
	if len(ids) != 1 {
		t.Fatalf("want 1 suggestion on the page: %v", ids)
	}

	// Accepted: saved into the core kit over its head, merged with the exercise's change.
	r = s.post("/kits/3/suggestions/"+ids[0]+"/accept", url.Values{})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/suggestions?done=accepted" {
		t.Fatalf("accept: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3/suggestions?done=accepted")
	mustContain(t, r.Body, "The suggestion has been taken into the core kit", "There are no suggestions waiting for an answer")
	r = s.get("/kits/3")
	mustContain(t, r.Body, "Welcome to London.", "Step two, in pairs.")
	if strings.Contains(r.Body, "from groups") {
		t.Error("the kit page still counts the suggestion accepted")
	}
	mustContain(t, s.get("/kits/3/history").Body, "Took London’s suggested change to “Welcome”")
	core, err := s.App.Services.Kits.Store.KitHead(ctx, 3, pg.CoreKit)
	if err != nil || core.Revision.Number != 5 || core.Revision.Author != midFac {
		t.Fatalf("core head after accepting: %+v %v, want revision 5 by the Midlands' facilitator", core.Revision, err)
	}
	// Accepting it again is refused.
	if r := s.post("/kits/3/suggestions/"+ids[0]+"/accept", url.Values{}); r.Status != http.StatusConflict {
		t.Errorf("accept twice: %d", r.Status)
	}

	// London's facilitators see the outcome; London brings the core kit in, and its
	// welcome is then the core kit's: nothing changed here, nothing behind.
	s.as(s.fac)
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "Accepted", "taken into revision 5 of the core kit by "+midFac, "The core kit has had 2 changes since you copied it")
	r = s.get("/kits/3/groups/london/merge")
	mustContain(t, r.Body, "None of the changes clashes")
	if r := s.post("/kits/3/groups/london/merge", readMergeForm(t, r).values("finish", nil)); r.Status != http.StatusSeeOther {
		t.Fatalf("bring the core kit in: %d\n%s", r.Status, r.Body)
	}
	r = s.get("/kits/3/groups/london")
	if strings.Contains(r.Body, "Changed here") || strings.Contains(r.Body, "since you") || strings.Contains(r.Body, "Suggest this change") {
		t.Errorf("London, up to date with the core kit that took its change, still shows a change or is behind\n%s", r.Body)
	}
	mustContain(t, r.Body, "Welcome to London.", "Based on the core kit for round 3, revision 5")

	actions := strings.Join(auditActions(t, s), ",")
	for _, a := range []string{"suggest kit change", "accept kit suggestion"} {
		if !strings.Contains(actions, a) {
			t.Errorf("the audit trail has no %q: %s", a, actions)
		}
	}
}

func TestASuggestionDeclinedWithAReasonAndOneThatClashes(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	s.createKit()
	welcome := s.addSection("Welcome", pg.AudienceParticipant, "Welcome.\n\nWe start at ten.\n")
	s.takeKit("london", pg.CoreKit)
	extra := func() string {
		r := s.post("/kits/3/groups/london/sections", url.Values{"from": {s.from("/kits/3/groups/london/sections/new")}, "title": {"Walk"}, "kind": {pg.SectionExercise}, "audience": {pg.AudienceParticipant}, "body": {"A walk by the river.\n"}, "note": {"Added a walk"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("add a section to London's version: %d\n%s", r.Status, r.Body)
		}
		loc := r.Header.Get("Location")
		return loc[strings.Index(loc, "#")+1:]
	}()
	s.editVariant("london", welcome, "Welcome", "Welcome to London.\n\nWe start at ten.\n")

	// Refused to those who do not facilitate London.
	midFac, member := testenv.Address("kit-decline-mid"), testenv.Address("kit-decline-member")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	s.joinAndConfirm(member)
	for _, who := range []string{midFac, member} {
		s.as(who)
		if r := s.post("/kits/3/groups/london/sections/"+welcome+"/suggest", url.Values{}); r.Status != http.StatusForbidden {
			t.Errorf("%s suggests London's change: %d", who, r.Status)
		}
		if who == member {
			if r := s.get("/kits/3/suggestions"); r.Status != http.StatusForbidden {
				t.Errorf("a member reads the suggestions: %d", r.Status)
			}
		}
	}
	s.as(s.fac)
	s.suggest(extra)
	s.suggest(welcome)

	// The core kit changes the welcome's same words meanwhile.
	s.as(midFac)
	s.editCore(welcome, "Welcome", "Welcome, everyone.\n\nWe start at ten.\n")
	r := s.get("/kits/3/suggestions")
	mustContain(t, r.Body, "2 suggestions are waiting for an answer", "A new section", "A walk by the river.")
	ids := s.openSuggestions()
	if len(ids) != 2 {
		t.Fatalf("want 2 suggestions: %v", ids)
	}
	// In the core kit's order: the welcome first, the new section after.
	welcomeID, walkID := ids[0], ids[1]

	// Accepting the welcome clashes: the conflict page, with both texts, and nothing
	// saved; the suggestion stays open.
	r = s.post("/kits/3/suggestions/"+welcomeID+"/accept", url.Values{})
	if r.Status != http.StatusConflict {
		t.Fatalf("accept a clashing suggestion: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "The core kit has changed this section since the group made its change", "Welcome to London.", "Welcome, everyone.",
		`action="/kits/3/sections/`+welcome+`"`)
	if core, _ := s.App.Services.Kits.Store.KitHead(ctx, 3, pg.CoreKit); core.Revision.Number != 3 {
		t.Errorf("a clashing accept saved revision %d", core.Revision.Number)
	}
	if got := s.openSuggestions(); len(got) != 2 {
		t.Errorf("after the clash, %d suggestions are open, want 2", len(got))
	}

	// Declined: a reason too long is refused and kept; then declined with a reason London sees.
	long := strings.Repeat("Too long. ", 120)
	r = s.post("/kits/3/suggestions/"+welcomeID+"/decline", url.Values{"reason": {long}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("decline with a reason too long: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "There is a problem", `href="#reason-`+welcomeID+`"`, strings.TrimSpace(long))
	r = s.post("/kits/3/suggestions/"+welcomeID+"/decline", url.Values{"reason": {"We keep the welcome the same for every region."}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3/suggestions?done=declined" {
		t.Fatalf("decline: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	// The new section is taken in.
	if r := s.post("/kits/3/suggestions/"+walkID+"/accept", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("accept the new section: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, s.get("/kits/3").Body, "A walk by the river.", "Welcome, everyone.")

	s.as(s.fac)
	r = s.get("/kits/3/groups/london")
	mustContain(t, r.Body, "Declined", "declined by "+midFac, "who said: “We keep the welcome the same for every region.”", "Accepted")
	actions := strings.Join(auditActions(t, s), ",")
	if !strings.Contains(actions, "decline kit suggestion") {
		t.Errorf("the audit trail has no decline: %s", actions)
	}
}
