package web

import (
	"net/url"
	"slices"
	"testing"
)

func TestDecodeAgendaKeepsMinutesAsTypedDropsEmptyRowsAndListsProblemsInOrder(t *testing.T) {
	v := url.Values{
		"from": {"abc"}, "action": {"save"},
		"row-1-id": {"a-1"}, "row-1-minutes": {"ten"}, "row-1-title": {"Welcome"}, "row-1-kind": {"talk"}, "row-1-participant-notes": {"Tea\r\nfirst"},
		"row-2-id": {"a-2"}, "row-2-kind": {"talk"}, // left empty: dropped
		"row-3-id": {"a-3"}, "row-3-minutes": {"20"}, "row-3-kind": {"break"},
		"row-5-id": {"a-5"}, "row-5-minutes": {"5"}, "row-5-title": {"Not read: row 4 is missing"}, "row-5-kind": {"talk"},
	}
	f, errs := decodeAgenda(v)
	if len(f.Rows) != 2 || f.Rows[0].MinutesText != "ten" || f.Rows[0].ParticipantNotes != "Tea\nfirst" || f.Rows[1].ID != "a-3" || f.Rows[1].Minutes != 20 || f.Rows[1].N != 2 || !f.Rows[1].Last {
		t.Errorf("decoded %+v", f.Rows)
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if want := []string{"row-1-minutes", "row-2-title", "note"}; !slices.Equal(fields, want) {
		t.Errorf("problems in %v, want %v (%v)", fields, want, errs)
	}
}

func TestTheAgendaFormsButtonsAddMoveAndRemoveRows(t *testing.T) {
	rows := func(ids ...string) []agendaFormRow {
		var out []agendaFormRow
		for _, id := range ids {
			r := agendaFormRow{}
			r.ID = id
			out = append(out, r)
		}
		return out
	}
	ids := func(rs []agendaFormRow) []string {
		var out []string
		for i, r := range rs {
			if r.N != i+1 || r.Last != (i == len(rs)-1) {
				t.Errorf("row %d numbered %d, last %v", i, r.N, r.Last)
			}
			out = append(out, r.ID)
		}
		return out
	}
	for action, want := range map[string][]string{
		"up-2":     {"b", "a", "c"},
		"up-1":     {"a", "b", "c"},
		"down-3":   {"a", "b", "c"},
		"down-1":   {"b", "a", "c"},
		"remove-2": {"a", "c"},
		"remove-9": {"a", "b", "c"},
		"sideways": {"a", "b", "c"},
	} {
		if got := ids(changeRows(rows("a", "b", "c"), action)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", action, got, want)
		}
	}
	if got := changeRows(rows("a"), "add"); len(got) != 2 || got[1].ID == "" || got[1].Kind != "talk" {
		t.Errorf("add: %+v", got)
	}
}
