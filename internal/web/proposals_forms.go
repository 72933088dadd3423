package web

import (
	"net/url"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// decodeProposal reads the "propose a peer group" form.
func decodeProposal(v url.Values) (pg.ProposalForm, pg.FieldErrors) {
	f := pg.ProposalForm{Area: text(v, "area"), Name: text(v, "name"), Email: text(v, "email"),
		Why: paragraph(v, "why"), CoFacilitators: paragraph(v, "cofacilitators")}
	return f, f.Validate()
}

// decodeInterest reads the "I'm interested" form: a name and an email address.
func decodeInterest(v url.Values) (name, email string, errs pg.FieldErrors) {
	name, email = text(v, "name"), text(v, "email")
	return name, email, pg.ValidateInterest(name, email)
}
