package peergroups_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// sectionEdits is what one side did to the base's sections: fields set (section ID
// and field, or "line N" of the body), sections deleted, and sections added.
type sectionEdits struct {
	changed map[[2]string]string
	deleted map[string]bool
	added   []pg.KitSection
}

const fuzzLines = 6 // lines of each base section's body

// editSections applies up to 8 random edits, read from in, to a copy of base's
// sections: a field or a line of a body changed, a section deleted, added or moved.
func editSections(base []pg.KitSection, in *bytesReader, side string) ([]pg.KitSection, sectionEdits) {
	secs := slices.Clone(base)
	e := sectionEdits{changed: map[[2]string]string{}, deleted: map[string]bool{}}
	inBase := func(id string) bool {
		return slices.ContainsFunc(base, func(s pg.KitSection) bool { return s.ID == id })
	}
	for n := in.next() % 9; n > 0; n-- {
		op, at := in.next()%5, in.next()
		switch {
		case op == 0 && len(secs) > 0: // change a field
			i := at % len(secs)
			var field, v string
			switch in.next() % 3 {
			case 0:
				field, v = "title", side+" title "+strconv.Itoa(in.next())
				secs[i].Title = v
			case 1:
				field, v = "kind", []string{pg.SectionSlides, pg.SectionHandout, pg.SectionExercise, pg.SectionNotes}[in.next()%4]
				secs[i].Kind = v
			default:
				field, v = "audience", []string{pg.AudienceParticipant, pg.AudienceFacilitator}[in.next()%2]
				secs[i].Audience = v
			}
			e.changed[[2]string{secs[i].ID, field}] = v
		case op == 1 && len(secs) > 0: // change a line of the body
			i, line := at%len(secs), in.next()%fuzzLines
			lines := strings.Split(secs[i].Body, "\n")
			if line >= len(lines)-1 {
				continue
			}
			lines[line] = side + " wrote line " + strconv.Itoa(line) + " " + strconv.Itoa(in.next())
			secs[i].Body = strings.Join(lines, "\n")
			e.changed[[2]string{secs[i].ID, "line " + strconv.Itoa(line)}] = lines[line]
		case op == 2 && len(secs) > 0: // delete a section of base
			i := at % len(secs)
			if !inBase(secs[i].ID) {
				continue
			}
			e.deleted[secs[i].ID] = true
			secs = slices.Delete(secs, i, i+1)
		case op == 3: // add a section
			s := pg.KitSection{ID: side + "-" + strconv.Itoa(len(e.added)), Kind: pg.SectionNotes, Audience: pg.AudienceParticipant, Title: "Added by " + side, Body: "New.\n"}
			e.added = append(e.added, s)
			secs = slices.Insert(secs, at%(len(secs)+1), s)
		case op == 4 && len(secs) > 1: // move a section
			i, j := at%len(secs), in.next()%len(secs)
			s := secs[i]
			secs = slices.Insert(slices.Delete(secs, i, i+1), j, s)
		}
	}
	// Changes to sections this side added or deleted are part of that; a field set
	// back to the base's value (or to the value it had) is no change.
	for k := range e.changed {
		if e.deleted[k[0]] || !inBase(k[0]) {
			delete(e.changed, k)
			continue
		}
		b := base[slices.IndexFunc(base, func(s pg.KitSection) bool { return s.ID == k[0] })]
		if sectionField(b, k[1]) == sectionField(secs[slices.IndexFunc(secs, func(s pg.KitSection) bool { return s.ID == k[0] })], k[1]) {
			delete(e.changed, k)
		}
	}
	for i, a := range e.added {
		e.added[i] = secs[slices.IndexFunc(secs, func(s pg.KitSection) bool { return s.ID == a.ID })]
	}
	return secs, e
}

// FuzzMergeSections edits a base kit's sections at random on two sides: merging a side
// with itself (or with the base) gives that side, and the merge of edits that do not
// clash holds every edit of both sides, down to the line of a body.
func FuzzMergeSections(f *testing.F) {
	f.Add([]byte{3, 1, 0, 1, 3, 0, 2, 0, 1, 4}, []byte{2, 1, 1, 3, 2, 0, 0, 2})
	f.Add([]byte{4, 0, 0, 0, 1, 2, 1, 0, 2, 3, 1, 1, 4, 0, 3}, []byte{4, 2, 1, 1, 1, 1, 5, 3, 0, 0, 2, 2})
	f.Add([]byte{0}, []byte{5, 4, 0, 1, 3, 2, 0, 2, 1, 0, 4, 1, 3})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		in := &bytesReader{b: append(slices.Clone(a), b...)}
		var base []pg.KitSection
		for i := range 1 + in.next()%6 {
			var body strings.Builder
			for l := range fuzzLines {
				body.WriteString("Paragraph " + strconv.Itoa(l) + " of section " + strconv.Itoa(i) + ".\n")
			}
			base = append(base, pg.KitSection{ID: "s" + strconv.Itoa(i), Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: "Section " + strconv.Itoa(i), Body: body.String()})
		}
		ours, oe := editSections(base, &bytesReader{b: a}, "o")
		theirs, te := editSections(base, &bytesReader{b: b}, "t")
		baseDoc, oursDoc, theirsDoc := kitDoc(base...), kitDoc(ours...), kitDoc(theirs...)

		for _, x := range []pg.KitDoc{oursDoc, theirsDoc} {
			for _, m := range [][2]pg.KitDoc{{x, x}, {x, baseDoc}, {baseDoc, x}} {
				if got, clashes := pg.MergeKits(baseDoc, m[0], m[1]); len(clashes) > 0 || hash(t, got) != hash(t, x) {
					t.Fatalf("merging a side with itself or the base is not that side:\nx   %s\ngot %s\nclashes %+v", sectionOrder(x), sectionOrder(got), clashes)
				}
			}
		}

		got, clashes := pg.MergeKits(baseDoc, oursDoc, theirsDoc)
		seen := map[string]bool{}
		for _, s := range got.Sections {
			if seen[s.ID] {
				t.Fatalf("section %s twice in the merge: %s", s.ID, sectionOrder(got))
			}
			seen[s.ID] = true
		}
		if len(clashes) > 0 {
			return
		}
		for _, side := range []struct{ mine, other sectionEdits }{{oe, te}, {te, oe}} {
			for k, v := range side.mine.changed {
				if _, both := side.other.changed[k]; both {
					continue // both set it, without a clash: to the same value
				}
				s, ok := got.Section(k[0])
				if !ok {
					t.Fatalf("section %s, changed on one side, is not in the merge %s", k[0], sectionOrder(got))
				}
				if have := sectionField(s, k[1]); have != v {
					t.Fatalf("section %s's %s was set to %q on one side; the merge has %q", k[0], k[1], v, have)
				}
			}
			for id := range side.mine.deleted {
				if _, ok := got.Section(id); ok {
					t.Fatalf("section %s, deleted on one side, is in the merge %s", id, sectionOrder(got))
				}
			}
			for _, a := range side.mine.added {
				if s, ok := got.Section(a.ID); !ok || s != a {
					t.Fatalf("section %s, added on one side, is not in the merge as added: %+v", a.ID, s)
				}
			}
		}
	})
}

// sectionOrder lists a kit's sections as "id:title" pairs.
func sectionOrder(d pg.KitDoc) string {
	var out []string
	for _, s := range d.Sections {
		out = append(out, s.ID+":"+s.Title)
	}
	return strings.Join(out, ",")
}

// sectionField is a section's field by the name editSections gives it.
func sectionField(s pg.KitSection, name string) string {
	switch name {
	case "title":
		return s.Title
	case "kind":
		return s.Kind
	case "audience":
		return s.Audience
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "line "))
	if lines := strings.Split(s.Body, "\n"); n < len(lines) {
		return lines[n]
	}
	return ""
}
