// A kit's agenda: the plan for the event, as rows of minutes, kept in the kit's
// document beside its sections, merged row by row and field by field; and the run
// sheet, the agenda with clock times from a group's event.

package peergroups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Agenda row kinds.
const (
	AgendaTalk       = "talk"
	AgendaDiscussion = "discussion"
	AgendaExercise   = "exercise"
	AgendaBreak      = "break"
	AgendaOther      = "other"
)

// Limits of an agenda.
const (
	AgendaMinutesMax = 480 // minutes of one row: a working day
	AgendaRowsMax    = 100
	AgendaLineMax    = 120 // a row's title and lead
	AgendaNotesMax   = 2000
)

// AgendaKinds is the choice of a row's kind, in the form's order.
var AgendaKinds = []string{AgendaTalk, AgendaDiscussion, AgendaExercise, AgendaBreak, AgendaOther}

// AgendaRow is one item of a kit's agenda. ID is stable across revisions, so that two
// people's changes to an agenda merge row by row.
type AgendaRow struct {
	ID               string `json:"id"`
	Minutes          int    `json:"minutes"`
	Title            string `json:"title"`
	Kind             string `json:"kind"`
	Lead             string `json:"lead"`
	ParticipantNotes string `json:"participantNotes"`
	FacilitatorNotes string `json:"facilitatorNotes"`
	Materials        string `json:"materials"`
}

// Blank reports whether a row has nothing in it but its ID and kind: an empty row
// of the form, dropped when the agenda is saved.
func (r AgendaRow) Blank() bool {
	return r.Minutes == 0 && r.Title == "" && r.Lead == "" && r.ParticipantNotes == "" && r.FacilitatorNotes == "" && r.Materials == ""
}

// ValidAgendaRowID reports whether s can be an agenda row's ID (as a section's).
func ValidAgendaRowID(s string) bool { return ValidSectionID(s) }

// NewAgendaRowID returns a fresh agenda row ID.
func NewAgendaRowID() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "a-" + hex.EncodeToString(b)
}

// normaliseNotes is how a row's notes are kept: as NormaliseText, without the final
// newline (they are plain text, not Markdown).
func normaliseNotes(s string) string { return strings.TrimSuffix(NormaliseText(s), "\n") }

// NormaliseAgenda returns the rows as they are stored.
func NormaliseAgenda(rows []AgendaRow) []AgendaRow {
	if len(rows) == 0 {
		return nil
	}
	out := make([]AgendaRow, len(rows))
	for i, r := range rows {
		r.ID, r.Kind, r.Title, r.Lead = normaliseLine(r.ID), normaliseLine(r.Kind), normaliseLine(r.Title), normaliseLine(r.Lead)
		r.ParticipantNotes, r.FacilitatorNotes, r.Materials = normaliseNotes(r.ParticipantNotes), normaliseNotes(r.FacilitatorNotes), normaliseNotes(r.Materials)
		out[i] = r
	}
	return out
}

// AgendaField is the name of the form field of row i (from 0) named name: the
// agenda form's inputs and its errors' links use it.
func AgendaField(i int, name string) string { return "row-" + strconv.Itoa(i+1) + "-" + name }

// ValidateAgenda checks an agenda, row by row, each in the order of its fields.
func ValidateAgenda(rows []AgendaRow) FieldErrors {
	var errs FieldErrors
	if len(rows) > AgendaRowsMax {
		errs.add(AgendaField(AgendaRowsMax, "title"), "The agenda must have "+strconv.Itoa(AgendaRowsMax)+" rows or fewer")
		return errs
	}
	seen := map[string]bool{}
	for i, r := range rows {
		item := "item " + strconv.Itoa(i+1)
		if !ValidAgendaRowID(r.ID) || seen[r.ID] {
			errs.add(AgendaField(i, "title"), "The form’s "+item+" cannot be read. Go back, refresh the page, then try again")
			continue
		}
		seen[r.ID] = true
		if r.Minutes < 1 || r.Minutes > AgendaMinutesMax {
			errs.add(AgendaField(i, "minutes"), "Minutes of "+item+" must be a whole number from 1 to "+strconv.Itoa(AgendaMinutesMax))
		}
		errs.line(AgendaField(i, "title"), r.Title, "Title of "+item, AgendaLineMax, "Enter the title of "+item)
		if !slices.Contains(AgendaKinds, r.Kind) {
			errs.add(AgendaField(i, "kind"), "Select what kind of item "+item+" is")
		}
		errs.line(AgendaField(i, "lead"), r.Lead, "Lead of "+item, AgendaLineMax, "")
		errs.paragraph(AgendaField(i, "participant-notes"), r.ParticipantNotes, "Participant notes of "+item, AgendaNotesMax, "")
		errs.paragraph(AgendaField(i, "facilitator-notes"), r.FacilitatorNotes, "Facilitator notes of "+item, AgendaNotesMax, "")
		errs.paragraph(AgendaField(i, "materials"), r.Materials, "Materials of "+item, AgendaNotesMax, "")
	}
	return errs
}

// AgendaMinutes is how long an agenda lasts, in minutes.
func AgendaMinutes(rows []AgendaRow) int {
	n := 0
	for _, r := range rows {
		n += r.Minutes
	}
	return n
}

// SaveAgenda saves a kit's agenda (all its rows, in order; blank rows dropped) over the
// revision the editor started from, merged with what others saved meanwhile. A
// *KitConflict error when both changed the same thing differently: its Ours is the
// merge with this save's values where they clash, so that a person who saves it again
// keeps the others' changes that did not clash.
func (k *Kits) SaveAgenda(ctx context.Context, c Caller, round int, from string, rows []AgendaRow, note string) (Kit, error) {
	if !canWriteCore(c) {
		return Kit{}, ErrForbidden
	}
	return k.saveAgenda(ctx, c, round, CoreKit, from, rows, note)
}

// saveAgenda saves the agenda of a round's kit (CoreKit, or a group's variant).
func (k *Kits) saveAgenda(ctx context.Context, c Caller, round int, kit, from string, rows []AgendaRow, note string) (Kit, error) {
	rows = slices.DeleteFunc(NormaliseAgenda(rows), AgendaRow.Blank)
	note = normaliseLine(note)
	if err := append(ValidateAgenda(rows), ValidateChangeNote(note)...).Err(); err != nil {
		return Kit{}, err
	}
	if !ValidKitHash(from) {
		return Kit{}, Errorf(KindInvalid, "The form did not say which revision you started from. Go back, refresh the page, then try again.")
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, err
	}
	base, err := k.doc(ctx, from)
	if err != nil {
		return Kit{}, err
	}
	ours := base
	ours.Agenda = rows
	saved, err := k.saveKit(ctx, c, r, kit, from, base, ours, note)
	if conflict, ok := errors.AsType[*KitConflict](err); ok {
		conflict.Ours.Agenda, _ = mergeAgenda(base.Agenda, ours.Agenda, conflict.Head.Doc.Agenda, true)
	}
	return saved, err
}

// mergeAgenda merges two sides' agendas made from base, by row ID and field: a field
// changed on one side takes that side's value; on both, to the same value, that
// value; on both differently, it is a clash, and the merge keeps theirs (ours when
// oursOnClash). The three notes are merged line by line first. A row added on either
// side is kept. A row removed on one side is removed, unless the other side changed
// it: a clash, which keeps the changed row when it is theirs (or oursOnClash).
//
// The order is theirs, with ours' moves applied: a row ours moved (one that is not in
// the longest run of rows ours kept in base's order) and theirs did not, and a row
// only ours added, goes after the row it follows in ours. Where both moved a row, it
// stays where theirs put it: an order never clashes, as no text is lost by it.
func mergeAgenda(base, ours, theirs []AgendaRow, oursOnClash bool) ([]AgendaRow, []KitClash) {
	var clashes []KitClash
	pick := func(v, o string, ok bool) string {
		if !ok && oursOnClash {
			return o
		}
		return v
	}
	field := func(row, name, b, o, t string, lines bool) string {
		merge := merge3
		if lines {
			merge = mergeLines
		}
		v, ok := merge(b, o, t)
		if !ok {
			clashes = append(clashes, KitClash{Row: row, Field: name, Base: b, Ours: o, Theirs: t})
		}
		return pick(v, o, ok)
	}
	find := func(rows []AgendaRow, id string) (AgendaRow, bool) {
		i := slices.IndexFunc(rows, func(r AgendaRow) bool { return r.ID == id })
		if i < 0 {
			return AgendaRow{}, false
		}
		return rows[i], true
	}
	merged := map[string]AgendaRow{}
	for _, id := range rowIDs(base, ours, theirs) {
		b, inBase := find(base, id)
		o, inOurs := find(ours, id)
		t, inTheirs := find(theirs, id)
		switch {
		case inOurs && inTheirs:
			minutes, ok := merge3(strconv.Itoa(b.Minutes), strconv.Itoa(o.Minutes), strconv.Itoa(t.Minutes))
			if !ok {
				clashes = append(clashes, KitClash{Row: id, Field: "minutes", Base: strconv.Itoa(b.Minutes), Ours: strconv.Itoa(o.Minutes), Theirs: strconv.Itoa(t.Minutes)})
			}
			m, _ := strconv.Atoi(pick(minutes, strconv.Itoa(o.Minutes), ok))
			merged[id] = AgendaRow{
				ID:               id,
				Minutes:          m,
				Title:            field(id, "title", b.Title, o.Title, t.Title, false),
				Kind:             field(id, "kind", b.Kind, o.Kind, t.Kind, false),
				Lead:             field(id, "lead", b.Lead, o.Lead, t.Lead, false),
				ParticipantNotes: field(id, "participant-notes", b.ParticipantNotes, o.ParticipantNotes, t.ParticipantNotes, true),
				FacilitatorNotes: field(id, "facilitator-notes", b.FacilitatorNotes, o.FacilitatorNotes, t.FacilitatorNotes, true),
				Materials:        field(id, "materials", b.Materials, o.Materials, t.Materials, true),
			}
		case !inBase && inOurs:
			merged[id] = o // added by us
		case !inBase && inTheirs:
			merged[id] = t // added by them
		case inOurs && !inTheirs: // they removed it
			if o != b {
				clashes = append(clashes, KitClash{Row: id, Field: "row", Base: b.Summary(), Ours: o.Summary()})
				if oursOnClash {
					merged[id] = o
				}
			}
		case inTheirs && !inOurs: // we removed it
			if t != b {
				clashes = append(clashes, KitClash{Row: id, Field: "row", Base: b.Summary(), Theirs: t.Summary()})
				merged[id] = t
			}
		}
	}
	var out []AgendaRow
	for _, id := range mergeOrder(ids(base), ids(ours), ids(theirs), merged) {
		out = append(out, merged[id])
	}
	return out, clashes
}

// Summary is a row in a line, for a clash with a removed row.
func (r AgendaRow) Summary() string {
	if r.ID == "" {
		return ""
	}
	return fmt.Sprintf("%s (%d minutes)", r.Title, r.Minutes)
}

func ids(rows []AgendaRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// rowIDs returns every row ID of the three, each once.
func rowIDs(agendas ...[]AgendaRow) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range agendas {
		for _, r := range a {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r.ID)
			}
		}
	}
	return out
}

// mergeOrder is the merged order of the rows (or sections) kept: theirs, with ours'
// moves and additions, each after the row it follows in ours.
func mergeOrder[V any](base, ours, theirs []string, kept map[string]V) []string {
	order := make([]string, 0, len(kept))
	for _, id := range theirs {
		if _, ok := kept[id]; ok {
			order = append(order, id)
		}
	}
	oursMoved, theirsMoved := moved(base, ours), moved(base, theirs)
	for i, id := range ours {
		if _, ok := kept[id]; !ok {
			continue
		}
		place := oursMoved[id] && !theirsMoved[id] || !slices.Contains(order, id)
		if !place {
			continue
		}
		if k := slices.Index(order, id); k >= 0 {
			order = slices.Delete(order, k, k+1)
		}
		at := 0
		for j := i - 1; j >= 0; j-- {
			if k := slices.Index(order, ours[j]); k >= 0 {
				at = k + 1
				break
			}
		}
		order = slices.Insert(order, at, id)
	}
	return order
}

// moved returns the IDs of the rows of base still in side that side moved: those
// outside a longest common subsequence of the two orders.
func moved(base, side []string) map[string]bool {
	var b, s []string
	for _, id := range base {
		if slices.Contains(side, id) {
			b = append(b, id)
		}
	}
	for _, id := range side {
		if slices.Contains(base, id) {
			s = append(s, id)
		}
	}
	// lcs[i][j] is the length of the longest common subsequence of b[i:] and s[j:].
	lcs := make([][]int, len(b)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(s)+1)
	}
	for i := len(b) - 1; i >= 0; i-- {
		for j := len(s) - 1; j >= 0; j-- {
			if b[i] == s[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	stay := map[string]bool{}
	for i, j := 0, 0; i < len(b) && j < len(s); {
		switch {
		case b[i] == s[j]:
			stay[b[i]] = true
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	out := map[string]bool{}
	for _, id := range s {
		if !stay[id] {
			out[id] = true
		}
	}
	return out
}

// Run sheet views.
const (
	RunSheetFacilitator = "facilitator"
	RunSheetParticipant = "participant"
)

// RunSheet is a kit's agenda timed for one group's event: for the facilitators (with
// their notes) or for the participants (without).
type RunSheet struct {
	Kit   Kit
	Event Event
	View  string
	// From is the kit the agenda comes from: CoreKit, or the group's ID when the
	// group has its own version of the kit (which it runs its event from).
	From string
	Rows []TimedRow
	// Minutes is how long the agenda lasts; Overrun how many minutes it runs past
	// the event's end (0 when it fits).
	Minutes, Overrun int
}

// TimedRow is an agenda row with its clock times. FacilitatorNotes and Materials (the
// facilitators' list of what to bring) are empty in the participants' view.
type TimedRow struct {
	AgendaRow
	Start, End time.Time
}

// End is when the agenda ends.
func (s RunSheet) End() time.Time {
	if len(s.Rows) == 0 {
		return s.Event.Start
	}
	return s.Rows[len(s.Rows)-1].End
}

// Facilitator reports whether the sheet is the facilitators' view.
func (s RunSheet) Facilitator() bool { return s.View == RunSheetFacilitator }

// NewRunSheet times an agenda from an event's start: each row starts when the one
// before it ends. The participants' view leaves out the facilitators' notes and
// materials.
func NewRunSheet(kit Kit, e Event, view string) RunSheet {
	s := RunSheet{Kit: kit, Event: e, View: view}
	at := e.Start
	for _, r := range kit.Doc.Agenda {
		if view != RunSheetFacilitator {
			r.FacilitatorNotes, r.Materials = "", ""
		}
		end := at.Add(time.Duration(r.Minutes) * time.Minute)
		s.Rows = append(s.Rows, TimedRow{AgendaRow: r, Start: at, End: end})
		at = end
	}
	s.Minutes = AgendaMinutes(kit.Doc.Agenda)
	if over := int(at.Sub(e.End) / time.Minute); over > 0 {
		s.Overrun = over
	}
	if view != RunSheetFacilitator {
		// Nothing of the facilitators' reaches the participants' view.
		s.Kit.Doc.Agenda, s.Kit.Doc.Sections, s.Kit.HTML = nil, nil, nil
	}
	return s
}

// Clock says a time of day in London the way the service does: "2pm", "2:30pm".
func Clock(t time.Time) string {
	return strings.Replace(strings.ToLower(t.In(London).Format("3:04PM")), ":00", "", 1)
}

// MinutesText says how long some minutes are: "45 minutes", "1 hour", "2 hours 10 minutes".
func MinutesText(n int) string {
	h, m := n/60, n%60
	unit := func(n int, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.Itoa(n) + " " + name + "s"
	}
	switch {
	case h == 0:
		return unit(m, "minute")
	case m == 0:
		return unit(h, "hour")
	}
	return unit(h, "hour") + " " + unit(m, "minute")
}

// RunSheet returns a round's run sheet for a group's event, in a view
// (RunSheetFacilitator or RunSheetParticipant): the agenda of the group's own version
// of the kit, or of the core kit while the group has none. A KindNotFound error when
// the group has no event for the round.
func (k *Kits) RunSheet(ctx context.Context, c Caller, round int, group, view string) (RunSheet, error) {
	if view != RunSheetFacilitator && view != RunSheetParticipant {
		return RunSheet{}, Errorf(KindNotFound, "There is no such view of the run sheet.")
	}
	kit, err := k.CoreKit(ctx, c, round)
	if err != nil {
		return RunSheet{}, err
	}
	events, err := k.Rounds.Events(ctx, round)
	if err != nil {
		return RunSheet{}, fmt.Errorf("round %d's events: %w", round, err)
	}
	i := slices.IndexFunc(events, func(e Event) bool { return e.GroupID == group })
	if i < 0 {
		return RunSheet{}, Errorf(KindNotFound, "That group has no event for round %d yet.", round)
	}
	from := CoreKit
	if ValidSectionID(group) {
		// Any facilitator reads any group's version (canReadVariants), as any reads the core kit.
		switch v, err := k.loadKit(ctx, kit.Round, group); {
		case err == nil:
			kit, from = v, group
		case KindOf(err) != KindNotFound:
			return RunSheet{}, fmt.Errorf("round %d's run sheet for %s: %w", round, group, err)
		}
	}
	s := NewRunSheet(kit, events[i], view)
	s.From = from
	return s, nil
}

// KitTask is one thing left to do on a kit, or done.
type KitTask struct {
	Name   string
	Href   string // a path of the kit's pages, relative to the kit's own
	Status string // "" when it is done
	Done   bool
}

// KitTasks lists what is left to do on a kit: each section (with content, or none
// yet), the agenda (empty or not), and, for each group's event, whether the agenda
// fits it. names are the groups' names by ID.
func KitTasks(d KitDoc, events []Event, names map[string]string) []KitTask {
	var tasks []KitTask
	for _, s := range d.Sections {
		t := KitTask{Name: "Write " + s.Title, Href: "/sections/" + s.ID, Done: strings.TrimSpace(s.Body) != ""}
		if !t.Done {
			t.Status = "No content"
		}
		tasks = append(tasks, t)
	}
	agenda := KitTask{Name: "Plan the agenda", Href: "/agenda", Done: len(d.Agenda) > 0}
	if !agenda.Done {
		agenda.Status = "Agenda empty"
	}
	tasks = append(tasks, agenda)
	if !agenda.Done {
		return tasks
	}
	minutes := AgendaMinutes(d.Agenda)
	for _, e := range events {
		name := names[e.GroupID]
		if name == "" {
			name = e.GroupID
		}
		t := KitTask{Name: "Fit the agenda into " + Possessive(name) + " event", Href: "/run-sheet/" + e.GroupID + "?view=facilitator", Done: e.Start.Add(time.Duration(minutes)*time.Minute).Compare(e.End) <= 0}
		if !t.Done {
			t.Status = "Agenda longer than the slot"
		}
		tasks = append(tasks, t)
	}
	return tasks
}
