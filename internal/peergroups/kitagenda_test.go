package peergroups_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func row(id string, minutes int, title string) pg.AgendaRow {
	return pg.AgendaRow{ID: id, Minutes: minutes, Title: title, Kind: pg.AgendaTalk}
}

func agendaDoc(rows ...pg.AgendaRow) pg.KitDoc {
	d := doc(sec("s", "S"))
	d.Agenda = rows
	return d
}

// order lists a merged agenda as "id:title" pairs.
func order(d pg.KitDoc) string {
	var out []string
	for _, r := range d.Agenda {
		out = append(out, r.ID+":"+r.Title)
	}
	return strings.Join(out, ",")
}

func hash(t testing.TB, d pg.KitDoc) string {
	t.Helper()
	_, h, err := d.Normalise().Encode()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAnAgendaIsStoredNormalisedAndAKitWithoutOneKeepsItsAddress(t *testing.T) {
	crlf := agendaDoc(pg.AgendaRow{ID: " a-1 ", Minutes: 10, Title: " Welcome ", Kind: "talk", ParticipantNotes: "Tea first.\r\nThen talk.  \r\n", Materials: "Slides\r\n"})
	lf := agendaDoc(pg.AgendaRow{ID: "a-1", Minutes: 10, Title: "Welcome", Kind: "talk", ParticipantNotes: "Tea first.\nThen talk.", Materials: "Slides"})
	if hash(t, crlf) != hash(t, lf) {
		t.Error("the same agenda typed on Windows and elsewhere is stored twice")
	}
	if got := crlf.Normalise().Agenda[0]; got.ParticipantNotes != "Tea first.\nThen talk." || got.Title != "Welcome" || got.ID != "a-1" {
		t.Errorf("normalised row: %+v", got)
	}
	// A kit saved before agendas existed has the same address as before.
	b, _, _ := doc(sec("s", "S")).Normalise().Encode()
	if strings.Contains(string(b), "agenda") {
		t.Errorf("a kit without an agenda stores one: %s", b)
	}
}

func TestAgendaRowsAreCheckedRowByRowWithTheirItemNumber(t *testing.T) {
	good := pg.AgendaRow{ID: "a-1", Minutes: 30, Title: "Welcome", Kind: pg.AgendaTalk}
	for name, tc := range map[string]struct {
		rows  []pg.AgendaRow
		field string
		msg   string
	}{
		"no minutes":      {[]pg.AgendaRow{good, {ID: "a-2", Title: "Tea", Kind: pg.AgendaBreak}}, "row-2-minutes", "Minutes of item 2 must be a whole number from 1 to 480"},
		"too many":        {[]pg.AgendaRow{{ID: "a-2", Minutes: 481, Title: "Day", Kind: pg.AgendaBreak}}, "row-1-minutes", "Minutes of item 1 must be a whole number from 1 to 480"},
		"no title":        {[]pg.AgendaRow{{ID: "a-2", Minutes: 5, Kind: pg.AgendaBreak}}, "row-1-title", "Enter the title of item 1"},
		"no kind":         {[]pg.AgendaRow{{ID: "a-2", Minutes: 5, Title: "Tea", Kind: "party"}}, "row-1-kind", "Select what kind of item item 1 is"},
		"two-line lead":   {[]pg.AgendaRow{{ID: "a-2", Minutes: 5, Title: "Tea", Kind: pg.AgendaBreak, Lead: "A\nB"}}, "row-1-lead", "Lead of item 1 must be on one line"},
		"long notes":      {[]pg.AgendaRow{{ID: "a-2", Minutes: 5, Title: "Tea", Kind: pg.AgendaBreak, FacilitatorNotes: strings.Repeat("x", 2001)}}, "row-1-facilitator-notes", "Facilitator notes of item 1 must be 2000 characters or fewer"},
		"same ID twice":   {[]pg.AgendaRow{good, good}, "row-2-title", "The form’s item 2 cannot be read. Go back, refresh the page, then try again"},
		"bad ID":          {[]pg.AgendaRow{{ID: "A 1", Minutes: 5, Title: "Tea", Kind: pg.AgendaBreak}}, "row-1-title", "The form’s item 1 cannot be read. Go back, refresh the page, then try again"},
		"control in note": {[]pg.AgendaRow{{ID: "a-2", Minutes: 5, Title: "Tea", Kind: pg.AgendaBreak, Materials: "a\x07b"}}, "row-1-materials", "Materials of item 1 must not contain control characters"},
	} {
		errs := pg.ValidateAgenda(tc.rows)
		if got := errs.For(tc.field); got != tc.msg {
			t.Errorf("%s: %s says %q, want %q (all: %v)", name, tc.field, got, tc.msg, errs)
		}
	}
	if errs := pg.ValidateAgenda([]pg.AgendaRow{good, {ID: "a-2", Minutes: 480, Title: "All day", Kind: pg.AgendaOther, Lead: "Sam", ParticipantNotes: "Bring lunch\nand water"}}); len(errs) > 0 {
		t.Errorf("a good agenda is refused: %v", errs)
	}
}

func TestMergeAgendaTakesEachSidesChangesToDifferentRowsAndFields(t *testing.T) {
	base := agendaDoc(row("a", 10, "Welcome"), row("b", 20, "Talk"), row("c", 30, "Wrap"))
	ours := agendaDoc(row("a", 15, "Welcome"), row("b", 20, "Talk"), row("c", 30, "Wrap"), row("o", 5, "Ours new"))
	theirs := agendaDoc(row("a", 10, "Welcome all"), row("b", 20, "Talk"), row("t", 5, "Theirs new"), row("c", 30, "Wrap"))
	theirs.Agenda[1].FacilitatorNotes = "Keep it short"
	got, clashes := pg.MergeKits(base, ours, theirs)
	if len(clashes) > 0 {
		t.Fatalf("clashes: %+v", clashes)
	}
	if o := order(got); o != "a:Welcome all,b:Talk,t:Theirs new,c:Wrap,o:Ours new" {
		t.Errorf("order: %s", o)
	}
	if got.Agenda[0].Minutes != 15 || got.Agenda[1].FacilitatorNotes != "Keep it short" {
		t.Errorf("a side's field change is lost: %+v", got.Agenda)
	}
}

func TestTheSameChangeOnBothSidesIsNotAClash(t *testing.T) {
	base := agendaDoc(row("a", 10, "Welcome"))
	// One typed on Windows, the other elsewhere: the same once normalised.
	ours := agendaDoc(pg.AgendaRow{ID: "a", Minutes: 12, Title: "Welcome", Kind: pg.AgendaTalk, ParticipantNotes: "Tea.\r\nCoffee.\r\n"}).Normalise()
	theirs := agendaDoc(pg.AgendaRow{ID: "a", Minutes: 12, Title: "Welcome", Kind: pg.AgendaTalk, ParticipantNotes: "Tea.\nCoffee."}).Normalise()
	got, clashes := pg.MergeKits(base, ours, theirs)
	if len(clashes) > 0 || hash(t, got) != hash(t, theirs) {
		t.Errorf("the same change on both sides: %+v, clashes %+v", got.Agenda, clashes)
	}
}

func TestARowChangedDifferentlyOnBothSidesIsAClashKeepingTheirs(t *testing.T) {
	base := agendaDoc(row("a", 10, "Welcome"))
	ours, theirs := agendaDoc(row("a", 15, "Hello")), agendaDoc(row("a", 20, "Hello"))
	got, clashes := pg.MergeKits(base, ours, theirs)
	if len(clashes) != 1 || clashes[0].Row != "a" || clashes[0].Field != "minutes" || clashes[0].Ours != "15" || clashes[0].Theirs != "20" {
		t.Fatalf("clashes: %+v", clashes)
	}
	if got.Agenda[0].Minutes != 20 || got.Agenda[0].Title != "Hello" {
		t.Errorf("merged: %+v", got.Agenda)
	}
	// Notes changed on different lines merge; on the same line they clash.
	base.Agenda[0].FacilitatorNotes = "one\ntwo\nthree\nfour"
	ours, theirs = agendaDoc(base.Agenda[0]), agendaDoc(base.Agenda[0])
	ours.Agenda[0].FacilitatorNotes, theirs.Agenda[0].FacilitatorNotes = "ONE\ntwo\nthree\nfour", "one\ntwo\nthree\nFOUR"
	if got, clashes := pg.MergeKits(base, ours, theirs); len(clashes) > 0 || got.Agenda[0].FacilitatorNotes != "ONE\ntwo\nthree\nFOUR" {
		t.Errorf("notes changed on different lines: %q %+v", got.Agenda[0].FacilitatorNotes, clashes)
	}
}

func TestARowDeletedOnOneSideAndEditedOnTheOtherIsAClash(t *testing.T) {
	base := agendaDoc(row("a", 10, "Welcome"), row("b", 20, "Talk"))
	edited := agendaDoc(row("a", 10, "Welcome"), row("b", 25, "Talk"))
	deleted := agendaDoc(row("a", 10, "Welcome"))
	got, clashes := pg.MergeKits(base, deleted, edited)
	if len(clashes) != 1 || clashes[0].Row != "b" || clashes[0].Field != "row" || clashes[0].Theirs != "Talk (25 minutes)" {
		t.Errorf("we deleted, they edited: clashes %+v", clashes)
	}
	if order(got) != "a:Welcome,b:Talk" {
		t.Errorf("their edited row is lost: %s", order(got))
	}
	_, clashes = pg.MergeKits(base, edited, deleted)
	if len(clashes) != 1 || clashes[0].Row != "b" || clashes[0].Field != "row" || clashes[0].Ours != "Talk (25 minutes)" {
		t.Errorf("we edited, they deleted: clashes %+v", clashes)
	}
	// Deleted on one side and untouched on the other: deleted, no clash.
	if got, clashes := pg.MergeKits(base, deleted, base); len(clashes) > 0 || order(got) != "a:Welcome" {
		t.Errorf("a deletion: %s %+v", order(got), clashes)
	}
}

// The rule for order: theirs, with the rows ours moved (and theirs did not) placed
// after the row they follow in ours; a row both moved stays where theirs put it.
func TestRowsReorderedOnBothSidesTakeTheirsOrderWithOursMoves(t *testing.T) {
	rows := func(ids string) pg.KitDoc {
		var r []pg.AgendaRow
		for _, id := range strings.Split(ids, "") {
			r = append(r, row(id, 10, strings.ToUpper(id)))
		}
		return agendaDoc(r...)
	}
	ids := func(d pg.KitDoc) string {
		var s string
		for _, r := range d.Agenda {
			s += r.ID
		}
		return s
	}
	for _, tc := range []struct{ base, ours, theirs, want string }{
		{"abcde", "abcde", "eabcd", "eabcd"}, // only theirs moved
		{"abcde", "eabcd", "abcde", "eabcd"}, // only ours moved
		{"abcde", "bacde", "abced", "baced"}, // different rows moved: both moves land
		{"abcde", "abdec", "cabde", "cabde"}, // both moved c: theirs' place
		{"abcde", "acdeb", "eabcd", "ebacd"}, // ours moved b to after e; theirs moved e to the front: b follows e there
		{"abcde", "edcba", "abcde", "edcba"}, // ours reversed it all
	} {
		got, clashes := pg.MergeKits(rows(tc.base), rows(tc.ours), rows(tc.theirs))
		if len(clashes) > 0 || ids(got) != tc.want {
			t.Errorf("base %s, ours %s, theirs %s: got %s, want %s (clashes %+v)", tc.base, tc.ours, tc.theirs, ids(got), tc.want, clashes)
		}
	}
}

func TestARunSheetTimesTheAgendaFromTheEventAndWarnsOfAnOverrun(t *testing.T) {
	start := time.Date(2027, 3, 4, 14, 0, 0, 0, pg.London)
	e := pg.Event{Round: 3, GroupID: "london", Start: start, End: start.Add(90 * time.Minute)}
	kit := pg.Kit{Doc: agendaDoc(
		pg.AgendaRow{ID: "a", Minutes: 30, Title: "Welcome", Kind: pg.AgendaTalk, FacilitatorNotes: "Secret tip", ParticipantNotes: "Say hello", Materials: "Flipchart"},
		pg.AgendaRow{ID: "b", Minutes: 45, Title: "Interviews", Kind: pg.AgendaExercise},
	)}
	s := pg.NewRunSheet(kit, e, pg.RunSheetFacilitator)
	if len(s.Rows) != 2 || pg.Clock(s.Rows[0].Start) != "2pm" || pg.Clock(s.Rows[1].Start) != "2:30pm" || pg.Clock(s.Rows[1].End) != "3:15pm" || s.Overrun != 0 || s.Minutes != 75 {
		t.Errorf("run sheet: %+v", s)
	}
	if s.Rows[0].FacilitatorNotes != "Secret tip" {
		t.Error("the facilitators' view lacks their notes")
	}
	p := pg.NewRunSheet(kit, e, pg.RunSheetParticipant)
	if p.Rows[0].FacilitatorNotes != "" || p.Rows[0].Materials != "" || p.Rows[0].ParticipantNotes != "Say hello" || len(p.Kit.Doc.Agenda) > 0 || len(p.Kit.Doc.Sections) > 0 {
		t.Errorf("the participants' view carries facilitators' content: %+v", p)
	}
	e.End = start.Add(60 * time.Minute)
	if s := pg.NewRunSheet(kit, e, pg.RunSheetFacilitator); s.Overrun != 15 {
		t.Errorf("overrun: %d, want 15", s.Overrun)
	}
	for n, want := range map[int]string{1: "1 minute", 45: "45 minutes", 60: "1 hour", 135: "2 hours 15 minutes", 61: "1 hour 1 minute"} {
		if got := pg.MinutesText(n); got != want {
			t.Errorf("MinutesText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTheKitsTaskListSaysWhatIsLeft(t *testing.T) {
	start := time.Date(2027, 3, 4, 14, 0, 0, 0, pg.London)
	events := []pg.Event{{GroupID: "london", Start: start, End: start.Add(time.Hour)}, {GroupID: "midlands", Start: start, End: start.Add(2 * time.Hour)}}
	names := map[string]string{"london": "London", "midlands": "Midlands"}
	d := doc(sec("s-1", "Text"), sec("s-2", ""))
	status := func(tasks []pg.KitTask) string {
		var out []string
		for _, t := range tasks {
			out = append(out, fmt.Sprintf("%s=%s", t.Name, t.Status))
		}
		return strings.Join(out, "; ")
	}
	if got := status(pg.KitTasks(d, events, names)); got != "Write T s-1=; Write T s-2=No content; Plan the agenda=Agenda empty" {
		t.Errorf("without an agenda: %s", got)
	}
	d.Agenda = []pg.AgendaRow{row("a", 60, "Talk"), row("b", 30, "Tea")}
	if got := status(pg.KitTasks(d, events, names)); got != "Write T s-1=; Write T s-2=No content; Plan the agenda=; Fit the agenda into London’s event=Agenda longer than the slot; Fit the agenda into Midlands’ event=" {
		t.Errorf("with an agenda of 90 minutes: %s", got)
	}
}
