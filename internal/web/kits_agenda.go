package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// agendaView is the agenda's form: a table of rows, each with its fields and buttons to
// move it up or down or remove it, a button to add a row, and the change note. After a
// clash with someone else's save, Clashes says what both changed.
type agendaView struct {
	base
	Kit     pg.Kit
	Rows    []agendaFormRow
	Note    string
	From    string
	Kinds   []string
	Clashes []agendaClash
	Minutes int // how long the rows last

	// Path is the page of the kit whose agenda it is (the form is at Path/agenda), and
	// Name the kit's name: "core kit", "London’s version".
	Path, Name string
}

// agendaFormRow is a row of the form, with the minutes as they were typed.
type agendaFormRow struct {
	pg.AgendaRow
	N           int // from 1
	MinutesText string
	Last        bool
}

// Field is the name (and id) of the row's field name.
func (r agendaFormRow) Field(name string) string { return pg.AgendaField(r.N-1, name) }

// agendaClash is a clash in the agenda, in the words of the form.
type agendaClash struct {
	Item, Field   string // the row's title; the field's label
	Theirs, Yours string
	Link          string // the id of the field in the form
}

// runSheetView is a group's run sheet for the round: the agenda with clock times.
type runSheetView struct {
	base
	Sheet pg.RunSheet
	Group pg.Group
}

// agendaLabels are the agenda's fields' labels, for clashes.
var agendaLabels = map[string]string{
	"minutes": "Minutes", "title": "Title", "kind": "Kind", "lead": "Lead",
	"participant-notes": "Participant notes", "facilitator-notes": "Facilitator notes",
	"materials": "Materials", "row": "The whole item",
}

// agendaRowFields are a row's fields, in the form's order.
var agendaRowFields = []string{"minutes", "title", "kind", "lead", "participant-notes", "facilitator-notes", "materials"}

// formRows makes rows into the form's rows.
func formRows(rows []pg.AgendaRow) []agendaFormRow {
	out := make([]agendaFormRow, len(rows))
	for i, r := range rows {
		out[i] = agendaFormRow{AgendaRow: r, N: i + 1, Last: i == len(rows)-1}
		if r.Minutes != 0 {
			out[i].MinutesText = strconv.Itoa(r.Minutes)
		}
	}
	return out
}

// agendaForm is the agenda's form as sent.
type agendaForm struct {
	Rows   []agendaFormRow
	Note   string
	From   string
	Action string // save, add, or up-N, down-N, remove-N
}

// decodeAgenda reads the agenda's form: rows row-1-… to row-N-… while there are any (at
// most one more than the limit, so that too many is said). Minutes that are not a
// whole number are kept as typed, for the form, with their problem.
func decodeAgenda(v url.Values) (agendaForm, pg.FieldErrors) {
	f := agendaForm{Note: text(v, "note"), From: text(v, "from"), Action: text(v, "action")}
	var unread pg.FieldErrors
	for i := 0; i <= pg.AgendaRowsMax; i++ {
		field := func(name string) string { return pg.AgendaField(i, name) }
		if _, ok := v[field("id")]; !ok {
			break
		}
		r := agendaFormRow{AgendaRow: pg.AgendaRow{
			ID: text(v, field("id")), Title: text(v, field("title")), Kind: text(v, field("kind")), Lead: text(v, field("lead")),
			ParticipantNotes: paragraph(v, field("participant-notes")), FacilitatorNotes: paragraph(v, field("facilitator-notes")), Materials: paragraph(v, field("materials")),
		}, MinutesText: text(v, field("minutes"))}
		f.Rows = append(f.Rows, r)
	}
	if f.Action == "save" || f.Action == "" {
		f.Rows = slices.DeleteFunc(f.Rows, func(r agendaFormRow) bool { return r.MinutesText == "" && r.Blank() })
	}
	rows := make([]pg.AgendaRow, len(f.Rows))
	for i := range f.Rows {
		r := &f.Rows[i]
		r.N, r.Last = i+1, i == len(f.Rows)-1
		if r.MinutesText != "" {
			n, err := strconv.Atoi(r.MinutesText)
			if err != nil {
				unread = append(unread, pg.FieldError{Field: r.Field("minutes"), Message: "Minutes of item " + strconv.Itoa(r.N) + " must be a whole number from 1 to " + strconv.Itoa(pg.AgendaMinutesMax)})
			} else {
				r.Minutes = n
			}
		}
		rows[i] = r.AgendaRow
	}
	fields := make([]string, 0, len(rows)*len(agendaRowFields)+1)
	for i := range rows {
		for _, name := range agendaRowFields {
			fields = append(fields, pg.AgendaField(i, name))
		}
	}
	fields = append(fields, "note")
	return f, inOrder(fields, unread, append(pg.ValidateAgenda(pg.NormaliseAgenda(rows)), pg.ValidateChangeNote(f.Note)...))
}

// agendaRows returns the form's rows as the domain's.
func (f agendaForm) agendaRows() []pg.AgendaRow {
	rows := make([]pg.AgendaRow, len(f.Rows))
	for i, r := range f.Rows {
		rows[i] = r.AgendaRow
	}
	return rows
}

// agendaKit is the kit an agenda form edits: the core kit, or a group's version.
type agendaKit struct {
	load func(ctx context.Context, c pg.Caller) (pg.Kit, error)
	save func(ctx context.Context, c pg.Caller, from string, rows []pg.AgendaRow, note string) (pg.Kit, error)
	path string // the kit's page
	name string // "core kit", "London’s version"
}

// coreAgenda is the core kit's agenda form's kit.
func (s kitPages) coreAgenda(n int) agendaKit {
	return agendaKit{
		load: func(ctx context.Context, c pg.Caller) (pg.Kit, error) { return s.svc.CoreKit(ctx, c, n) },
		save: func(ctx context.Context, c pg.Caller, from string, rows []pg.AgendaRow, note string) (pg.Kit, error) {
			return s.svc.SaveAgenda(ctx, c, n, from, rows, note)
		},
		path: kitPath(n), name: "core kit",
	}
}

// agendaFormPage shows the core kit's agenda's form.
func (s kitPages) agendaFormPage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.agendaForm(w, r, s.coreAgenda(n))
}

// agendaForm shows a kit's agenda's form, with an empty row when the agenda has none.
func (s kitPages) agendaForm(w http.ResponseWriter, r *http.Request, k agendaKit) {
	kit, err := k.load(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := kit.Doc.Agenda
	if len(rows) == 0 {
		rows = []pg.AgendaRow{{ID: pg.NewAgendaRowID(), Kind: pg.AgendaTalk}}
	}
	s.renderAgenda(w, r, http.StatusOK, k, &agendaView{Kit: kit, Rows: formRows(rows), From: kit.Revision})
}

func (s kitPages) renderAgenda(w http.ResponseWriter, r *http.Request, status int, k agendaKit, p *agendaView) {
	p.Kinds, p.Path, p.Name = pg.AgendaKinds, k.path, k.name
	p.Title = fmt.Sprintf("Round %d %s: the agenda", p.Kit.Round.Number, k.name)
	if len(p.Clashes) > 0 {
		p.Title = "Someone else changed the agenda"
	}
	for _, row := range p.Rows {
		p.Minutes += row.Minutes
	}
	s.render(w, r, status, "kit-agenda", p)
}

// agendaSave saves the core kit's agenda.
func (s kitPages) agendaSave(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.saveAgenda(w, r, s.coreAgenda(n))
}

// saveAgenda saves a kit's agenda, or, for the form's other buttons, shows it again
// with a row added, moved or removed (nothing is saved until "Save the agenda").
func (s kitPages) saveAgenda(w http.ResponseWriter, r *http.Request, k agendaKit) {
	f, errs := decodeAgenda(values(r))
	c := caller(r)
	if f.Action != "save" && f.Action != "" {
		f.Rows = changeRows(f.Rows, f.Action)
		errs = nil
	}
	if len(errs) > 0 || f.Action != "save" && f.Action != "" {
		s.agendaAgain(w, r, k, f, errs)
		return
	}
	kit, err := k.save(r.Context(), c, f.From, f.agendaRows(), f.Note)
	if conflict, ok := errors.AsType[*pg.KitConflict](err); ok {
		p := &agendaView{Kit: conflict.Head, Rows: formRows(conflict.Ours.Agenda), Note: f.Note, From: conflict.Head.Revision}
		p.Clashes = agendaClashes(conflict, p.Rows)
		p.Errors = pg.FieldErrors{{Field: p.Clashes[0].Link, Message: "Someone else changed the agenda while you were editing it. Check the items below, then save yours again"}}
		s.renderAgenda(w, r, http.StatusConflict, k, p)
		return
	}
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		s.agendaAgain(w, r, k, f, fe) // what the form's own checks did not find
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done := "saved"
	if kit.Head.Parent != f.From {
		done = "merged"
	}
	http.Redirect(w, r, fmt.Sprintf("%s?done=%s#agenda", k.path, done), http.StatusSeeOther)
}

// agendaAgain shows the agenda's form again as it was sent (with its problems, if any).
func (s kitPages) agendaAgain(w http.ResponseWriter, r *http.Request, k agendaKit, f agendaForm, errs pg.FieldErrors) {
	kit, err := k.load(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	s.renderAgenda(w, r, status, k, &agendaView{base: base{Errors: errs}, Kit: kit, Rows: f.Rows, Note: f.Note, From: f.From})
}

// changeRows adds a row, or moves or removes row N, as the form's buttons ask.
func changeRows(rows []agendaFormRow, action string) []agendaFormRow {
	if action == "add" && len(rows) < pg.AgendaRowsMax {
		rows = append(rows, agendaFormRow{AgendaRow: pg.AgendaRow{ID: pg.NewAgendaRowID(), Kind: pg.AgendaTalk}})
	} else if verb, num, ok := strings.Cut(action, "-"); ok {
		i, err := strconv.Atoi(num)
		i--
		if err == nil && i >= 0 && i < len(rows) {
			switch {
			case verb == "up" && i > 0:
				rows[i-1], rows[i] = rows[i], rows[i-1]
			case verb == "down" && i < len(rows)-1:
				rows[i], rows[i+1] = rows[i+1], rows[i]
			case verb == "remove":
				rows = slices.Delete(rows, i, i+1)
			}
		}
	}
	for i := range rows {
		rows[i].N, rows[i].Last = i+1, i == len(rows)-1
	}
	return rows
}

// agendaClashes says what clashed, item by item, linking to each item's field in the
// form (rows, the form's rows, are the merge with the person's values).
func agendaClashes(conflict *pg.KitConflict, rows []agendaFormRow) []agendaClash {
	var out []agendaClash
	for _, c := range conflict.Clashes {
		if c.Row == "" {
			continue
		}
		ac := agendaClash{Field: agendaLabels[c.Field], Theirs: c.Theirs, Yours: c.Ours}
		i := slices.IndexFunc(rows, func(r agendaFormRow) bool { return r.ID == c.Row })
		if i >= 0 {
			ac.Item = rows[i].Title
			field := c.Field
			if field == "row" {
				field = "title"
			}
			ac.Link = rows[i].Field(field)
		} else {
			ac.Item = c.Base
			if len(rows) > 0 {
				ac.Link = rows[0].Field("title")
			}
		}
		if ac.Link == "" {
			ac.Link = "note"
		}
		if c.Field == "row" && c.Theirs == "" {
			ac.Theirs = "Removed"
		}
		if c.Field == "row" && c.Ours == "" {
			ac.Yours = "Removed"
		}
		out = append(out, ac)
	}
	if len(out) == 0 {
		out = []agendaClash{{Item: "The kit", Field: "Agenda", Link: "note"}}
	}
	return out
}

// runSheet shows a group's run sheet for the round: the agenda timed from its event.
func (s kitPages) runSheet(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := r.URL.Query().Get("view")
	if view == "" {
		view = pg.RunSheetFacilitator
	}
	sheet, err := s.svc.RunSheet(r.Context(), caller(r), n, r.PathValue("group"), view)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.Rounds.Group(r.Context(), sheet.Event.GroupID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who := "participants"
	if sheet.Facilitator() {
		who = "facilitators"
	}
	s.render(w, r, http.StatusOK, "kit-run-sheet", &runSheetView{base: base{Title: fmt.Sprintf("Round %d run sheet for %s (%s)", n, g.Name, who)}, Sheet: sheet, Group: g})
}

// kitTasks lists on the kit's page what is left to do: sections without content, the
// agenda, and each group's event the agenda does not fit.
func (s kitPages) kitTasks(ctx context.Context, p *kitView) error {
	_, events, err := s.Rounds.Round(ctx, p.Kit.Round.Number)
	if err != nil {
		return fmt.Errorf("kit tasks: %w", err)
	}
	names := map[string]string{}
	if len(events) > 0 {
		groups, err := s.Rounds.Groups(ctx)
		if err != nil {
			return fmt.Errorf("kit tasks: %w", err)
		}
		for _, g := range groups {
			names[g.ID] = g.Name
		}
	}
	p.Tasks = pg.KitTasks(p.Kit.Doc, events, names)
	for _, t := range p.Tasks {
		if !t.Done {
			p.Left++
		}
	}
	return nil
}
