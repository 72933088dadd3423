package web

import (
	"net/url"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitFields and sectionFields are the kits' forms' fields, in order.
var (
	kitFields     = []string{"title", "summary", "licence"}
	sectionFields = []string{"title", "kind", "audience", "body", "note"}
)

// decodeKit reads the form that creates a kit: its title, summary and licence.
func decodeKit(v url.Values) (pg.KitDoc, pg.FieldErrors) {
	d := pg.KitDoc{Title: text(v, "title"), Summary: paragraph(v, "summary"), Licence: text(v, "licence")}.Normalise()
	return d, inOrder(kitFields, nil, pg.ValidateKitDetails(d))
}

// sectionForm is a section's form: the section, its change note and the revision the
// editor started from.
type sectionForm struct {
	Section pg.KitSection
	Note    string
	From    string
}

// decodeSection reads a section's form; id is the section's, from the path. The body
// keeps its leading spaces (Markdown's indented code) and is normalised.
func decodeSection(v url.Values, id string) (sectionForm, pg.FieldErrors) {
	body := ""
	if b := v["body"]; len(b) > 0 {
		body = b[0]
	}
	f := sectionForm{
		Section: pg.KitDoc{Sections: []pg.KitSection{{ID: id, Title: text(v, "title"), Kind: text(v, "kind"), Audience: text(v, "audience"), Body: body}}}.Normalise().Sections[0],
		Note:    text(v, "note"),
		From:    text(v, "from"),
	}
	return f, inOrder(sectionFields, nil, append(pg.ValidateSection(f.Section), pg.ValidateChangeNote(f.Note)...))
}
