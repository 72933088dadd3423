package peergroups

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// DecodeGroup reads the group form. With create set it also reads the group's ID.
func DecodeGroup(v url.Values, councils *Councils, create bool) (Group, FieldErrors) {
	var g Group
	var errs FieldErrors
	if create {
		g.ID, _ = text(v, "id")
		switch {
		case g.ID == "":
			errs.add("id", "Enter a short name for the web address, like north-west")
		case !validGroupID(g.ID):
			errs.add("id", "Short name must be 1 to 40 lower-case letters, numbers and hyphens, starting and ending with a letter or number")
		}
	}
	g.Name = errs.line(v, "name", "Name", 100, "Enter the group’s name")
	known := councils.Regions()
	for _, r := range v["regions"] {
		if !slices.Contains(known, r) {
			errs.add("regions", "Select regions from the list")
			break
		}
		if !slices.Contains(g.Regions, r) {
			g.Regions = append(g.Regions, r)
		}
	}
	if len(g.Regions) == 0 && errs.For("regions") == "" {
		errs.add("regions", "Select the regions the group covers")
	}
	g.Description, g.Contact = decodePublic(v, &errs)
	if !create {
		g.Version = decodeVersion(v)
	}
	return g, errs
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

// decodePublic reads what people see about a group: its description (several lines)
// and contact address (optional).
func decodePublic(v url.Values, errs *FieldErrors) (description, contact string) {
	description = errs.paragraph(v, "description", "Description", 1000, "")
	contact, _ = text(v, "contact")
	if contact != "" {
		if msg := checkEmail(contact); msg != "" {
			errs.add("contact", strings.Replace(msg, "Email address", "Contact address", 1))
		}
	}
	return description, contact
}

// DecodeFacilitatorEdit reads what a facilitator may change: description and contact.
func DecodeFacilitatorEdit(v url.Values, g Group) (Group, FieldErrors) {
	var errs FieldErrors
	g.Description, g.Contact = decodePublic(v, &errs)
	g.Version = decodeVersion(v)
	return g, errs
}
