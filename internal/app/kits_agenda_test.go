package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// agendaItem is one row of the agenda's form, as a person fills it in.
type agendaItem struct {
	id, minutes, title, kind, lead, participant, facilitator, materials string
}

var rowIDField = regexp.MustCompile(`name="row-(\d+)-id" value="([a-z0-9-]+)"`)

// agendaIDs returns the row IDs of the agenda's form on a page, in order.
func agendaIDs(t *testing.T, body string) []string {
	t.Helper()
	var ids []string
	for _, m := range rowIDField.FindAllStringSubmatch(body, -1) {
		if m[1] != strconv.Itoa(len(ids)+1) {
			t.Fatalf("the form's rows are numbered %s after %d", m[1], len(ids))
		}
		ids = append(ids, m[2])
	}
	return ids
}

// agendaForm is the agenda's form with rows, a change note and a button.
func agendaForm(from, note, action string, rows ...agendaItem) url.Values {
	v := url.Values{"from": {from}, "note": {note}, "action": {action}}
	for i, r := range rows {
		f := func(name string) string { return pg.AgendaField(i, name) }
		v.Set(f("id"), r.id)
		v.Set(f("minutes"), r.minutes)
		v.Set(f("title"), r.title)
		v.Set(f("kind"), r.kind)
		v.Set(f("lead"), r.lead)
		v.Set(f("participant-notes"), r.participant)
		v.Set(f("facilitator-notes"), r.facilitator)
		v.Set(f("materials"), r.materials)
	}
	return v
}

// planAgenda saves an agenda through its form and returns the rows' IDs.
func (s *kitSite) planAgenda(items ...agendaItem) []string {
	s.t.Helper()
	r := s.get("/kits/3/agenda")
	from := fromField.FindStringSubmatch(r.Body)
	ids := agendaIDs(s.t, r.Body)
	if r.Status != http.StatusOK || from == nil || len(ids) == 0 {
		s.t.Fatalf("the agenda's form: %d\n%s", r.Status, r.Body)
	}
	// The form's new rows get their IDs from the page: one a press of "Add a row".
	for {
		for i := range min(len(ids), len(items)) {
			if items[i].id == "" {
				items[i].id = ids[i]
			}
		}
		if len(ids) >= len(items) {
			break
		}
		r = s.post("/kits/3/agenda", agendaForm(from[1], "", "add", items[:len(ids)]...))
		if len(agendaIDs(s.t, r.Body)) != len(ids)+1 {
			s.t.Fatalf("add a row: %d\n%s", r.Status, r.Body)
		}
		ids = agendaIDs(s.t, r.Body)
	}
	r = s.post("/kits/3/agenda", agendaForm(from[1], "Planned the agenda", "save", items...))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=saved#agenda" {
		s.t.Fatalf("save the agenda: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.id
	}
	return out
}

func TestAFacilitatorPlansTheAgendaInATableFormWithAnErrorFirst(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Welcome", pg.AudienceParticipant, "Hello")
	r := s.get("/kits/3")
	mustContain(t, r.Body, "What is left to do", "The kit has no agenda yet.", "Agenda empty", `href="/kits/3/agenda"`)

	r = s.get("/kits/3/agenda")
	ids := agendaIDs(t, r.Body)
	from := fromField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || len(ids) != 1 || from == nil {
		t.Fatalf("an empty agenda's form has one empty row: %d %v\n%s", r.Status, ids, r.Body)
	}
	// "Add a row" adds one, keeping what was typed, and saves nothing.
	first := agendaItem{id: ids[0], minutes: "ten", title: "Welcome", kind: pg.AgendaTalk, participant: "Tea first.\r\nThen talk.", facilitator: "Arrive early"}
	r = s.post("/kits/3/agenda", agendaForm(from[1], "", "add", first))
	ids = agendaIDs(t, r.Body)
	if r.Status != http.StatusOK || len(ids) != 2 || strings.Contains(r.Body, "There is a problem") {
		t.Fatalf("add a row: %d %v\n%s", r.Status, ids, r.Body)
	}
	mustContain(t, r.Body, `value="ten"`, "Tea first.\nThen talk.")
	second := agendaItem{id: ids[1], minutes: "45", kind: pg.AgendaExercise, lead: "Sam", materials: "Sticky notes"}

	// Saved with a problem in each row and no change note: each is said, linked to its
	// field, and nothing is lost.
	r = s.post("/kits/3/agenda", agendaForm(from[1], "", "save", first, second))
	if r.Status != http.StatusBadRequest {
		t.Fatalf("an agenda with problems: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Error: ", "There is a problem",
		`href="#row-1-minutes">Minutes of item 1 must be a whole number from 1 to 480`,
		`href="#row-2-title">Enter the title of item 2`,
		`href="#note">Enter a short note of what you changed`,
		`value="ten"`, `value="Sam"`, "Sticky notes", "Arrive early")
	if strings.Index(r.Body, `href="#row-1-minutes"`) > strings.Index(r.Body, `href="#row-2-title"`) {
		t.Error("the errors are not in the order of the form")
	}
	if h := s.get("/kits/3/history").Body; strings.Contains(h, "Planned the agenda") {
		t.Error("a form with problems was saved")
	}

	// "Move up" moves the second row above the first; an empty row is dropped on saving.
	first.minutes, second.title = "10", "Interviews"
	r = s.post("/kits/3/agenda", agendaForm(from[1], "Planned the agenda", "up-2", first, second))
	if ids := agendaIDs(t, r.Body); r.Status != http.StatusOK || len(ids) != 2 || ids[0] != second.id {
		t.Fatalf("move up: %d %v", r.Status, ids)
	}
	r = s.post("/kits/3/agenda", agendaForm(from[1], "Planned the agenda", "save", second, first, agendaItem{id: "a-empty", kind: pg.AgendaTalk}))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=saved#agenda" {
		t.Fatalf("save: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3?done=saved")
	mustContain(t, r.Body, "Your changes have been saved", "2 items, 55 minutes in all", "Interviews", "led by Sam", "Sticky notes", "Tea first.\nThen talk.", "Arrive early", "Edit the agenda")
	if strings.Index(r.Body, "Interviews") > strings.Index(r.Body, "Tea first.") {
		t.Error("the agenda is not in the order it was saved in")
	}
	if strings.Contains(r.Body, "Agenda empty") {
		t.Error("the task list still says the agenda is empty")
	}
	mustContain(t, s.get("/kits/3/history").Body, "Planned the agenda")

	// The stored revision holds the rows, normalised, in order.
	kit, err := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(kit.Doc.Agenda) != 2 || kit.Doc.Agenda[0].ID != second.id || kit.Doc.Agenda[1].ParticipantNotes != "Tea first.\nThen talk." || kit.Doc.Agenda[1].Minutes != 10 {
		t.Errorf("stored agenda: %+v", kit.Doc.Agenda)
	}
}

func TestTwoFacilitatorsSavingTheAgendaAtOnceAreMergedAndAClashLosesNothing(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	ids := s.planAgenda(
		agendaItem{minutes: "10", title: "Welcome", kind: pg.AgendaTalk},
		agendaItem{minutes: "30", title: "Interviews", kind: pg.AgendaExercise},
		agendaItem{minutes: "15", title: "Wrap-up", kind: pg.AgendaDiscussion},
	)
	welcome := agendaItem{id: ids[0], minutes: "10", title: "Welcome", kind: pg.AgendaTalk}
	interviews := agendaItem{id: ids[1], minutes: "30", title: "Interviews", kind: pg.AgendaExercise}
	wrap := agendaItem{id: ids[2], minutes: "15", title: "Wrap-up", kind: pg.AgendaDiscussion}
	from := s.from("/kits/3/agenda")

	// One lengthens the welcome; the other, from the same revision, renames the wrap-up
	// and adds a break: both land.
	w := welcome
	w.minutes = "20"
	if r := s.post("/kits/3/agenda", agendaForm(from, "Longer welcome", "save", w, interviews, wrap)); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d\n%s", r.Status, r.Body)
	}
	s.as(s.admin)
	wr := wrap
	wr.title = "Close"
	tea := agendaItem{id: "a-tea", minutes: "5", title: "Tea", kind: pg.AgendaBreak}
	r := s.post("/kits/3/agenda", agendaForm(from, "A break", "save", welcome, tea, interviews, wr))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/kits/3?done=merged#agenda" {
		t.Fatalf("second save over a moved head: %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = s.get("/kits/3?done=merged")
	mustContain(t, r.Body, "together with changes someone else saved meanwhile", "4 items, 1 hour 10 minutes in all", "Tea", "Close")
	if strings.Contains(r.Body, "Wrap-up") {
		t.Error("the rename was lost")
	}
	if !(strings.Index(r.Body, ">Welcome<") < strings.Index(r.Body, ">Tea<") && strings.Index(r.Body, ">Tea<") < strings.Index(r.Body, ">Interviews<")) {
		t.Error("the added row is not where it was put")
	}

	// Both change the interviews' minutes, from the same revision: the second is told,
	// sees both, and the form keeps the first's other change with the second's minutes.
	from = s.from("/kits/3/agenda")
	kit, err := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var now []agendaItem
	for _, row := range kit.Doc.Agenda {
		now = append(now, agendaItem{id: row.ID, minutes: strconv.Itoa(row.Minutes), title: row.Title, kind: row.Kind})
	}
	theirs := append([]agendaItem(nil), now...)
	theirs[2].minutes, theirs[0].lead = "40", "Priya"
	if r := s.post("/kits/3/agenda", agendaForm(from, "Longer interviews", "save", theirs...)); r.Status != http.StatusSeeOther {
		t.Fatalf("their save: %d\n%s", r.Status, r.Body)
	}
	s.as(s.fac)
	mine := append([]agendaItem(nil), now...)
	mine[2].minutes = "25"
	r = s.post("/kits/3/agenda", agendaForm(from, "Shorter interviews", "save", mine...))
	if r.Status != http.StatusConflict {
		t.Fatalf("a clash: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "There is a problem", `href="#row-3-minutes">Someone else changed the agenda`, "Interviews: Minutes", "As saved now: 40", "Yours: 25",
		`name="row-3-minutes" type="text" inputmode="numeric" spellcheck="false" value="25"`, `value="Priya"`, `value="Shorter interviews"`)
	again := fromField.FindStringSubmatch(r.Body)
	if again == nil || again[1] == from {
		t.Fatal("the conflict page does not start from the new head")
	}
	if body := s.get("/kits/3").Body; strings.Contains(body, ">25<") || !strings.Contains(body, ">40<") {
		t.Error("the clash was saved")
	}
	mine[0].lead = "Priya"
	if r := s.post("/kits/3/agenda", agendaForm(again[1], "Shorter interviews", "save", mine...)); r.Status != http.StatusSeeOther {
		t.Fatalf("saved again: %d\n%s", r.Status, r.Body)
	}
	r = s.get("/kits/3")
	mustContain(t, r.Body, ">25<", "led by Priya")
	mustContain(t, s.get("/kits/3/history").Body, "Longer welcome", "A break", "Longer interviews", "Shorter interviews")
}

func TestTheRunSheetTimesTheAgendaFromTheGroupsEventAndWarnsWhenItOverruns(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	day := time.Date(2027, 3, 4, 0, 0, 0, 0, pg.London)
	admin := pg.Caller{Email: s.admin, Admin: true}
	if err := s.App.Services.Rounds.SetEvent(context.Background(), admin, pg.Event{Round: 3, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(15*time.Hour + 30*time.Minute), Venue: "Guildhall", Capacity: 30}); err != nil {
		t.Fatal(err)
	}
	if r := s.get("/kits/3/run-sheet/london"); r.Status != http.StatusOK || !strings.Contains(r.Body, "The kit has no agenda yet.") {
		t.Errorf("a run sheet without an agenda: %d\n%s", r.Status, r.Body)
	}
	s.planAgenda(
		agendaItem{minutes: "30", title: "Welcome", kind: pg.AgendaTalk, participant: "Find a seat.", facilitator: "Secret facilitation tip", materials: "Name badges"},
		agendaItem{minutes: "45", title: "Interviews", kind: pg.AgendaExercise, lead: "Sam"},
	)
	r := s.get("/kits/3/run-sheet/london?view=facilitator")
	mustContain(t, r.Body, "Run sheet for London: facilitators", "Thursday 4 March 2027, 2pm to 3:30pm, Guildhall",
		"2pm to 2:30pm", "2:30pm to 3:15pm", "Welcome", "Led by Sam", "Find a seat.", "Secret facilitation tip", "Name badges", "/assets/app.css")
	if strings.Contains(r.Body, "govuk-warning-text") {
		t.Error("a warning for an agenda that fits the event")
	}
	p := s.get("/kits/3/run-sheet/london?view=participant")
	mustContain(t, p.Body, "Run sheet for London: participants", "2pm to 2:30pm", "Find a seat.")
	for _, secret := range []string{"Secret facilitation tip", "Name badges"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("the participants' view carries %q", secret)
		}
	}
	mustContain(t, s.get("/kits/3").Body, "Fit the agenda into London’s event", "Completed")

	// The event is shortened: the agenda overruns it, and both pages say so.
	if err := s.App.Services.Rounds.SetEvent(context.Background(), admin, pg.Event{Round: 3, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(15 * time.Hour), Venue: "Guildhall", Capacity: 30}); err != nil {
		t.Fatal(err)
	}
	r = s.get("/kits/3/run-sheet/london")
	mustContain(t, r.Body, "govuk-warning-text", "The agenda lasts 1 hour 15 minutes: 15 minutes longer than the event, which ends at 3pm.")
	mustContain(t, s.get("/kits/3").Body, "Agenda longer than the slot", `href="/kits/3/run-sheet/london?view=facilitator"`)

	// A group without an event, and a view that does not exist.
	if r := s.get("/kits/3/run-sheet/midlands"); r.Status != http.StatusNotFound {
		t.Errorf("a group without an event: %d", r.Status)
	}
	if r := s.get("/kits/3/run-sheet/london?view=everyone"); r.Status != http.StatusNotFound {
		t.Errorf("a view that does not exist: %d", r.Status)
	}
}

// A group with its own version of the kit runs its event from it: its run sheet times
// its version's agenda, not the core kit's later one, and says where it comes from; a
// group without one runs from the core kit.
func TestAGroupsRunSheetTimesItsOwnVersionOfTheAgenda(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	day := time.Date(2027, 3, 4, 0, 0, 0, 0, pg.London)
	admin := pg.Caller{Email: s.admin, Admin: true}
	for _, g := range []string{"london", "midlands"} {
		if err := s.App.Services.Rounds.SetEvent(context.Background(), admin, pg.Event{Round: 3, GroupID: g, Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: "A hall", Capacity: 30}); err != nil {
			t.Fatal(err)
		}
	}
	ids := s.planAgenda(agendaItem{minutes: "30", title: "Welcome", kind: pg.AgendaTalk})
	if r := s.post("/kits/3/groups/london", url.Values{"from": {pg.CoreKit}}); r.Status != http.StatusSeeOther {
		t.Fatalf("London's version: %d\n%s", r.Status, r.Body)
	}
	s.planAgenda(agendaItem{id: ids[0], minutes: "45", title: "Coffee and introductions", kind: pg.AgendaTalk})

	london := s.get("/kits/3/run-sheet/london?view=facilitator")
	mustContain(t, london.Body, "2pm to 2:30pm", "Welcome", "From London’s version of the kit for round 3", `href="/kits/3/groups/london">Back to the kit`)
	if strings.Contains(london.Body, "Coffee and introductions") {
		t.Errorf("London's run sheet has the core kit's later agenda:\n%s", london.Body)
	}
	midlands := s.get("/kits/3/run-sheet/midlands?view=participant")
	mustContain(t, midlands.Body, "2pm to 2:45pm", "Coffee and introductions", "From the core kit for round 3", `href="/kits/3">Back to the kit`)
}
