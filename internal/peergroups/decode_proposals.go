package peergroups

import "net/url"

// ProposalForm is the "propose a peer group" form, decoded.
type ProposalForm struct {
	Area           string
	Name           string
	Email          string
	Why            string
	CoFacilitators string
}

// DecodeProposal reads the proposal form.
func DecodeProposal(v url.Values) (ProposalForm, FieldErrors) {
	var f ProposalForm
	var errs FieldErrors
	f.Area = errs.short(v, "area", "Area", 100, "Enter the area the group would cover", "Enter the area without a web address")
	f.Name = errs.short(v, "name", "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	f.Email = errs.email(v, "email")
	f.Why = errs.paragraph(v, "why", "Why", 2000, "Say why the area needs a peer group")
	f.CoFacilitators = errs.paragraph(v, "cofacilitators", "Co-facilitators", 1000, "")
	return f, errs
}

// DecodeInterest reads the "I'm interested" form: a name and an email address.
func DecodeInterest(v url.Values) (name, email string, errs FieldErrors) {
	name = errs.short(v, "name", "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	email = errs.email(v, "email")
	return name, email, errs
}
