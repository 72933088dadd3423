package web

import (
	"net/url"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// decodeRegister reads the council sign-up form.
func decodeRegister(v url.Values, councils *pg.Councils) (pg.RegisterForm, pg.FieldErrors) {
	f := pg.RegisterForm{Council: text(v, "council"), Name: text(v, "name"), Email: text(v, "email"), Role: text(v, "role")}
	errs := f.Validate(councils)
	if _, ok := councils.Lookup(f.Council); !ok {
		f.Council = ""
	}
	return f, errs
}
