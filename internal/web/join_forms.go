package web

import (
	"net/url"
	"slices"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// signupFields are the join form's fields, in the order of its pages.
var signupFields = []string{"name", "email", "council", "organisation", "jobTitle", "facilitate", "groups"}

// readDetails reads the "your details" page's fields, saying what could not be read.
func readDetails(v url.Values) (pg.SignupForm, pg.FieldErrors) {
	f := pg.SignupForm{Name: text(v, "name"), Email: text(v, "email"), Council: text(v, "council"),
		Organisation: text(v, "organisation"), JobTitle: text(v, "jobTitle")}
	var unread pg.FieldErrors
	switch text(v, "facilitate") {
	case "":
	case "yes":
		f.Facilitate = true
	default:
		unread = append(unread, pg.FieldError{Field: "facilitate", Message: "Select whether you would like to help facilitate"})
	}
	return f, unread
}

// keepDetails drops what the answers make moot, after they were checked: an
// organisation typed before a council was chosen, a council not in the list.
func keepDetails(f pg.SignupForm, councils *pg.Councils) pg.SignupForm {
	if f.Council != "" && f.Council != pg.NotACouncil {
		f.Organisation = ""
		if _, ok := councils.Lookup(f.Council); !ok {
			f.Council = ""
		}
	}
	return f
}

// decodeDetails reads the "your details" part of the join form. It never fails: what
// is wrong is returned as field errors, with the answers kept.
func decodeDetails(v url.Values, councils *pg.Councils) (pg.SignupForm, pg.FieldErrors) {
	f, unread := readDetails(v)
	errs := inOrder(signupFields, unread, f.ValidateDetails(councils))
	return keepDetails(f, councils), errs
}

// decodeSignup reads the whole join form: the details and the groups chosen.
func decodeSignup(v url.Values, councils *pg.Councils, groups []pg.Group) (pg.SignupForm, pg.FieldErrors) {
	f, unread := readDetails(v)
	for _, id := range v["groups"] {
		if !slices.Contains(f.Groups, id) {
			f.Groups = append(f.Groups, id)
		}
	}
	switch text(v, "interest") {
	case "":
	case "yes":
		f.Interest = true
	default:
		unread = append(unread, pg.FieldError{Field: "groups", Message: "Select peer groups from the list"})
	}
	errs := inOrder(signupFields, unread, f.Validate(councils, groups))
	if slices.ContainsFunc(f.Groups, func(id string) bool { g, ok := pg.FindGroup(groups, id); return !ok || g.Paused }) {
		f.Groups = nil
	}
	if f.Interest && f.Region(councils) == "" {
		f.Interest = false
	}
	return keepDetails(f, councils), errs
}

// signupValues returns the details as they would be posted, to carry the answers from
// the details page to the groups page.
func signupValues(f pg.SignupForm) url.Values {
	v := url.Values{}
	v.Set("name", f.Name)
	v.Set("email", f.Email)
	v.Set("council", f.Council)
	v.Set("organisation", f.Organisation)
	v.Set("jobTitle", f.JobTitle)
	if f.Facilitate {
		v.Set("facilitate", "yes")
	}
	return v
}
