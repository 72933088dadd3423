package peergroups

import (
	"strings"

	"github.com/epiclabs-io/diff3"
)

// MergeKits merges two revisions of a kit, ours and theirs, both made from base: a
// three-way merge by section ID and by field. A field changed on one side only takes
// that side's value; changed on both to the same value, that value; changed on both
// differently, it is a clash, and the merge keeps theirs there, except a section's body
// (Markdown, one paragraph a line), which is merged line by line first, so that two
// people who changed different paragraphs of one section both keep their change. A section removed on
// one side is removed unless the other side changed it (a clash). The order is theirs,
// with the sections only ours added placed after the section they follow in ours.
// The agenda is merged by row and field (mergeAgenda).
func MergeKits(base, ours, theirs KitDoc) (KitDoc, []KitClash) {
	var clashes []KitClash
	field := func(section, name, b, o, t string) string {
		merge := merge3
		if name == "body" {
			merge = mergeLines
		}
		v, ok := merge(b, o, t)
		if !ok {
			clashes = append(clashes, KitClash{Section: section, Field: name, Base: b, Ours: o, Theirs: t})
		}
		return v
	}
	out := KitDoc{
		Title:   field("", "title", base.Title, ours.Title, theirs.Title),
		Summary: field("", "summary", base.Summary, ours.Summary, theirs.Summary),
		Licence: field("", "licence", base.Licence, ours.Licence, theirs.Licence),
	}
	merged := map[string]KitSection{}
	ids := sectionIDs(base, ours, theirs)
	for _, id := range ids {
		b, inBase := base.Section(id)
		o, inOurs := ours.Section(id)
		t, inTheirs := theirs.Section(id)
		switch {
		case inOurs && inTheirs:
			merged[id] = KitSection{
				ID:       id,
				Kind:     field(id, "kind", b.Kind, o.Kind, t.Kind),
				Audience: field(id, "audience", b.Audience, o.Audience, t.Audience),
				Title:    field(id, "title", b.Title, o.Title, t.Title),
				Body:     field(id, "body", b.Body, o.Body, t.Body),
			}
		case !inBase && inOurs:
			merged[id] = o // added by us
		case !inBase && inTheirs:
			merged[id] = t // added by them
		case inOurs && !inTheirs: // they removed it
			if o != b {
				clashes = append(clashes, KitClash{Section: id, Field: "section", Base: b.Body, Ours: o.Body})
			}
		case inTheirs && !inOurs: // we removed it
			if t != b {
				clashes = append(clashes, KitClash{Section: id, Field: "section", Base: b.Body, Theirs: t.Body})
				merged[id] = t
			}
		}
	}
	// Theirs' order, with ours' moves and additions (as the agenda's rows).
	sectionOrder := func(d KitDoc) []string {
		out := make([]string, len(d.Sections))
		for i, s := range d.Sections {
			out[i] = s.ID
		}
		return out
	}
	order := mergeOrder(sectionOrder(base), sectionOrder(ours), sectionOrder(theirs), merged)
	for _, id := range order {
		out.Sections = append(out.Sections, merged[id])
	}
	agenda, agendaClashes := mergeAgenda(base.Agenda, ours.Agenda, theirs.Agenda, false)
	out.Agenda, clashes = agenda, append(clashes, agendaClashes...)
	files, fileClashes := mergeFiles(base.Files, ours.Files, theirs.Files)
	out.Files, clashes = files, append(clashes, fileClashes...)
	return out, clashes
}

// merge3 is the three-way rule for one value.
func merge3(base, ours, theirs string) (string, bool) {
	switch {
	case ours == theirs:
		return ours, true
	case ours == base:
		return theirs, true
	case theirs == base:
		return ours, true
	}
	return theirs, false
}

// mergeLines is the three-way rule for a text, line by line (GNU diff3's): changes
// to different lines of base are both kept; changes to the same or adjacent lines
// that differ are a clash, and then the merge keeps theirs.
func mergeLines(base, ours, theirs string) (string, bool) {
	if v, ok := merge3(base, ours, theirs); ok {
		return v, true
	}
	split := func(s string) []string { return strings.Split(s, "\n") }
	var lines []string
	for _, part := range diff3.Diff3Merge(split(ours), split(base), split(theirs), true) {
		if part.Conflict != nil {
			return theirs, false
		}
		lines = append(lines, part.Ok...)
	}
	return strings.Join(lines, "\n"), true
}

// sectionIDs returns every section ID of the three, each once.
func sectionIDs(docs ...KitDoc) []string {
	var ids []string
	seen := map[string]bool{}
	for _, d := range docs {
		for _, s := range d.Sections {
			if !seen[s.ID] {
				seen[s.ID] = true
				ids = append(ids, s.ID)
			}
		}
	}
	return ids
}
