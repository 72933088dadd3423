package peergroups_test

import (
	"slices"
	"strconv"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// agendaFields are the fields the fuzzer edits, with how to read and write each.
var agendaFields = []struct {
	name string
	get  func(pg.AgendaRow) string
	set  func(*pg.AgendaRow, string)
}{
	{"minutes", func(r pg.AgendaRow) string { return strconv.Itoa(r.Minutes) }, func(r *pg.AgendaRow, v string) { r.Minutes, _ = strconv.Atoi(v) }},
	{"title", func(r pg.AgendaRow) string { return r.Title }, func(r *pg.AgendaRow, v string) { r.Title = v }},
	{"kind", func(r pg.AgendaRow) string { return r.Kind }, func(r *pg.AgendaRow, v string) { r.Kind = v }},
	{"lead", func(r pg.AgendaRow) string { return r.Lead }, func(r *pg.AgendaRow, v string) { r.Lead = v }},
	{"participant-notes", func(r pg.AgendaRow) string { return r.ParticipantNotes }, func(r *pg.AgendaRow, v string) { r.ParticipantNotes = v }},
	{"facilitator-notes", func(r pg.AgendaRow) string { return r.FacilitatorNotes }, func(r *pg.AgendaRow, v string) { r.FacilitatorNotes = v }},
	{"materials", func(r pg.AgendaRow) string { return r.Materials }, func(r *pg.AgendaRow, v string) { r.Materials = v }},
}

// edits is what one side did to the base agenda.
type edits struct {
	changed map[[2]string]string // row ID and field name: the value it was set to
	deleted map[string]bool
	added   []pg.AgendaRow
}

// bytes reads the fuzzer's input a byte at a time; 0 once it runs out.
type bytesReader struct {
	b []byte
	i int
}

func (r *bytesReader) next() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

// edit applies up to 8 random edits, read from in, to a copy of base: field changes,
// deletions, additions and moves.
func edit(base []pg.AgendaRow, in *bytesReader, side string) ([]pg.AgendaRow, edits) {
	rows := slices.Clone(base)
	e := edits{changed: map[[2]string]string{}, deleted: map[string]bool{}}
	for n := in.next() % 9; n > 0; n-- {
		op, at := in.next()%4, in.next()
		switch {
		case op == 0 && len(rows) > 0: // change a field
			i := at % len(rows)
			f := agendaFields[in.next()%len(agendaFields)]
			v := side + strconv.Itoa(in.next())
			if f.name == "minutes" {
				v = strconv.Itoa(1 + in.next())
			}
			if f.name == "participant-notes" {
				v = "line one\n" + v + "\nline three"
			}
			f.set(&rows[i], v)
			if e.deleted[rows[i].ID] {
				continue
			}
			e.changed[[2]string{rows[i].ID, f.name}] = v
		case op == 1 && len(rows) > 0: // delete a row of base
			i := at % len(rows)
			if !slices.ContainsFunc(base, func(r pg.AgendaRow) bool { return r.ID == rows[i].ID }) {
				continue
			}
			e.deleted[rows[i].ID] = true
			rows = slices.Delete(rows, i, i+1)
		case op == 2: // add a row
			r := pg.AgendaRow{ID: side + "-" + strconv.Itoa(len(e.added)), Minutes: 5, Title: "Added by " + side, Kind: pg.AgendaOther}
			e.added = append(e.added, r)
			rows = slices.Insert(rows, at%(len(rows)+1), r)
		case op == 3 && len(rows) > 1: // move a row
			i, j := at%len(rows), in.next()%len(rows)
			r := rows[i]
			rows = slices.Insert(slices.Delete(rows, i, i+1), j, r)
		}
	}
	// Changes to rows this side added or deleted are part of the addition or deletion.
	for k := range e.changed {
		if e.deleted[k[0]] || !slices.ContainsFunc(base, func(r pg.AgendaRow) bool { return r.ID == k[0] }) {
			delete(e.changed, k)
		}
	}
	for i, a := range e.added {
		e.added[i] = rows[slices.IndexFunc(rows, func(r pg.AgendaRow) bool { return r.ID == a.ID })]
	}
	return rows, e
}

// FuzzMergeAgenda edits a base agenda at random on two sides: merging a side with
// itself gives that side, and the merge of edits that do not clash holds every edit of
// both sides.
func FuzzMergeAgenda(f *testing.F) {
	f.Add([]byte{3, 5, 0, 0, 1, 1, 7, 2, 2, 0, 3, 0, 1, 2, 3}, []byte{2, 0, 1, 4, 2, 1, 9})
	f.Add([]byte{8, 0, 0, 0, 0, 1, 0, 1, 1, 4, 0, 2, 9, 1, 3, 3, 0}, []byte{8, 0, 1, 5, 1, 1, 3, 2, 0, 3, 4, 1, 0, 2, 6, 5})
	f.Add([]byte{0}, []byte{4, 3, 2, 0, 3, 1, 4, 0, 2, 2, 1, 1, 1, 3})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		in := &bytesReader{b: append(slices.Clone(a), b...)}
		var base []pg.AgendaRow
		for i := range in.next() % 8 {
			base = append(base, pg.AgendaRow{ID: "b" + strconv.Itoa(i), Minutes: 10 + i, Title: "Row " + strconv.Itoa(i), Kind: pg.AgendaTalk, ParticipantNotes: "line one\nline two\nline three"})
		}
		ours, oe := edit(base, &bytesReader{b: a}, "o")
		theirs, te := edit(base, &bytesReader{b: b}, "t")
		baseDoc, oursDoc, theirsDoc := agendaDoc(base...), agendaDoc(ours...), agendaDoc(theirs...)

		for _, x := range []pg.KitDoc{oursDoc, theirsDoc} {
			if got, clashes := pg.MergeKits(baseDoc, x, x); len(clashes) > 0 || hash(t, got) != hash(t, x) {
				t.Fatalf("merge(base, x, x) != x:\nx   %s\ngot %s\nclashes %+v", order(x), order(got), clashes)
			}
			if got, clashes := pg.MergeKits(baseDoc, x, baseDoc); len(clashes) > 0 || hash(t, got) != hash(t, x) {
				t.Fatalf("merge(base, x, base) != x:\nx   %s\ngot %s\nclashes %+v", order(x), order(got), clashes)
			}
			if got, clashes := pg.MergeKits(baseDoc, baseDoc, x); len(clashes) > 0 || hash(t, got) != hash(t, x) {
				t.Fatalf("merge(base, base, x) != x:\nx   %s\ngot %s\nclashes %+v", order(x), order(got), clashes)
			}
		}

		got, clashes := pg.MergeKits(baseDoc, oursDoc, theirsDoc)
		ids := map[string]int{}
		for _, r := range got.Agenda {
			ids[r.ID]++
			if ids[r.ID] > 1 {
				t.Fatalf("row %s twice in the merge: %s", r.ID, order(got))
			}
		}
		if len(clashes) > 0 {
			return
		}
		find := func(id string) (pg.AgendaRow, bool) {
			i := slices.IndexFunc(got.Agenda, func(r pg.AgendaRow) bool { return r.ID == id })
			if i < 0 {
				return pg.AgendaRow{}, false
			}
			return got.Agenda[i], true
		}
		for _, side := range []struct{ mine, other edits }{{oe, te}, {te, oe}} {
			for k, v := range side.mine.changed {
				if _, both := side.other.changed[k]; both {
					continue // both changed it, without a clash: merged by lines, or the same
				}
				r, ok := find(k[0])
				if !ok {
					t.Fatalf("row %s, changed on one side, is not in the merge %s", k[0], order(got))
				}
				f := agendaFields[slices.IndexFunc(agendaFields, func(f struct {
					name string
					get  func(pg.AgendaRow) string
					set  func(*pg.AgendaRow, string)
				}) bool {
					return f.name == k[1]
				})]
				if f.get(r) != v {
					t.Fatalf("row %s's %s was set to %q on one side; the merge has %q", k[0], k[1], v, f.get(r))
				}
			}
			for id := range side.mine.deleted {
				if _, ok := find(id); ok {
					t.Fatalf("row %s, deleted on one side, is in the merge %s", id, order(got))
				}
			}
			for _, a := range side.mine.added {
				if r, ok := find(a.ID); !ok || r != a {
					t.Fatalf("row %s, added on one side, is not in the merge as added: %+v", a.ID, r)
				}
			}
		}
	})
}
