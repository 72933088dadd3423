package web

import (
	"net/url"
	"slices"
	"strconv"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// decodeGroup reads the admin's group form. With create set it also reads the group's ID.
func decodeGroup(v url.Values, councils *pg.Councils, create bool) (pg.Group, pg.FieldErrors) {
	g := pg.Group{Name: text(v, "name"), Description: paragraph(v, "description"), Contact: text(v, "contact")}
	if create {
		g.ID = text(v, "id")
	} else {
		g.Version = decodeVersion(v)
	}
	for _, r := range v["regions"] {
		if !slices.Contains(g.Regions, r) {
			g.Regions = append(g.Regions, r)
		}
	}
	return g, pg.ValidateGroup(g, councils, create)
}

// decodeFacilitatorEdit reads what a facilitator may change of g: its description and
// contact address.
func decodeFacilitatorEdit(v url.Values, g pg.Group) (pg.Group, pg.FieldErrors) {
	g.Description, g.Contact = paragraph(v, "description"), text(v, "contact")
	g.Version = decodeVersion(v)
	return g, pg.ValidateGroupPublic(g)
}

// decodeVersion reads the version of the group the editor saw, from the form's hidden
// field; -1, which no group has, when it is missing or not a number.
func decodeVersion(v url.Values) int {
	n, err := strconv.Atoi(v.Get("version"))
	if err != nil || n < 0 {
		return -1
	}
	return n
}
