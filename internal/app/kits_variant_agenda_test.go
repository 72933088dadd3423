package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A group's facilitators edit their version's agenda with the core kit's table form:
// two saves from the same revision that change different rows are merged, the core kit
// is left as it was, the version's page links to its run sheet, which times the
// version's agenda, and a facilitator of another group cannot change it.
func TestAGroupsFacilitatorsEditTheirVersionsAgendaMergedRowByRow(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	day := time.Date(2027, 3, 4, 0, 0, 0, 0, pg.London)
	admin := pg.Caller{Email: s.admin, Admin: true}
	if err := s.App.Services.Rounds.SetEvent(context.Background(), admin, pg.Event{Round: 3, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: "A hall", Capacity: 30}); err != nil {
		t.Fatal(err)
	}
	ids := s.planAgenda(
		agendaItem{minutes: "30", title: "Welcome", kind: pg.AgendaTalk},
		agendaItem{minutes: "60", title: "Discussion", kind: pg.AgendaDiscussion, facilitator: "Keep it moving"},
	)
	s.takeKit("london", pg.CoreKit)

	page := s.get("/kits/3/groups/london")
	mustContain(t, page.Body, `href="/kits/3/groups/london/agenda">Edit the agenda`, "Keep it moving",
		`href="/kits/3/run-sheet/london?view=facilitator"`, `href="/kits/3/run-sheet/london?view=participant"`)

	form := s.get("/kits/3/groups/london/agenda")
	from := fromField.FindStringSubmatch(form.Body)
	if form.Status != http.StatusOK || from == nil || strings.Join(agendaIDs(t, form.Body), ",") != strings.Join(ids, ",") {
		t.Fatalf("London's agenda form: %d\n%s", form.Status, form.Body)
	}
	mustContain(t, form.Body, `action="/kits/3/groups/london/agenda"`, "Round 3 London’s version: ", `href="/kits/3/groups/london">Back to the kit`)

	// An error first: nothing is saved, and the form says what to fix.
	bad := s.post("/kits/3/groups/london/agenda", agendaForm(from[1], "Longer welcome", "save",
		agendaItem{id: ids[0], minutes: "forty", title: "Welcome", kind: pg.AgendaTalk},
		agendaItem{id: ids[1], minutes: "60", title: "Discussion", kind: pg.AgendaDiscussion, facilitator: "Keep it moving"}))
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("minutes that are not a number: %d, want 400\n%s", bad.Status, bad.Body)
	}
	mustContain(t, bad.Body, "There is a problem", "Minutes of item 1 must be a whole number", `value="forty"`)

	// Two saves from the same revision, of different rows: both land.
	first := s.post("/kits/3/groups/london/agenda", agendaForm(from[1], "Longer welcome", "save",
		agendaItem{id: ids[0], minutes: "45", title: "Welcome", kind: pg.AgendaTalk},
		agendaItem{id: ids[1], minutes: "60", title: "Discussion", kind: pg.AgendaDiscussion, facilitator: "Keep it moving"}))
	if first.Status != http.StatusSeeOther || first.Header.Get("Location") != "/kits/3/groups/london?done=saved#agenda" {
		t.Fatalf("save London's agenda: %d %q\n%s", first.Status, first.Header.Get("Location"), first.Body)
	}
	second := s.post("/kits/3/groups/london/agenda", agendaForm(from[1], "Breakouts instead", "save",
		agendaItem{id: ids[0], minutes: "30", title: "Welcome", kind: pg.AgendaTalk},
		agendaItem{id: ids[1], minutes: "60", title: "Breakout groups", kind: pg.AgendaExercise, facilitator: "Keep it moving"}))
	if second.Status != http.StatusSeeOther || second.Header.Get("Location") != "/kits/3/groups/london?done=merged#agenda" {
		t.Fatalf("the second save from the same revision: %d %q, want merged\n%s", second.Status, second.Header.Get("Location"), second.Body)
	}
	sheet := s.get("/kits/3/run-sheet/london?view=facilitator")
	mustContain(t, sheet.Body, "2pm to 2:45pm", "2:45pm to 3:45pm", "Breakout groups", "From London’s version of the kit for round 3")
	if strings.Contains(sheet.Body, "Discussion") {
		t.Errorf("London's run sheet lost the second save's change:\n%s", sheet.Body)
	}
	core := s.get("/kits/3")
	mustContain(t, core.Body, "Discussion")
	if strings.Contains(core.Body, "Breakout groups") {
		t.Error("editing London's agenda changed the core kit's")
	}

	// A facilitator of another group reads London's version, but cannot change its agenda.
	other := testenv.Address("kit-agenda-mid")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), admin, "midlands", other); err != nil {
		t.Fatal(err)
	}
	s.as(other)
	if r := s.get("/kits/3/groups/london/agenda"); r.Status != http.StatusForbidden {
		t.Errorf("another group's facilitator opens London's agenda form: %d, want 403", r.Status)
	}
	if r := s.post("/kits/3/groups/london/agenda", agendaForm(from[1], "Mine now", "save", agendaItem{id: ids[0], minutes: "10", title: "Hijacked", kind: pg.AgendaTalk})); r.Status != http.StatusForbidden {
		t.Errorf("another group's facilitator saves London's agenda: %d, want 403", r.Status)
	}
	if r := s.get("/kits/3/groups/london"); strings.Contains(r.Body, "Edit the agenda") || strings.Contains(r.Body, "Hijacked") {
		t.Error("another group's facilitator is offered London's agenda to edit, or changed it")
	}
}
