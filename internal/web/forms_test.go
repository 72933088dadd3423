package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// FuzzDecodeConsoleForms feeds arbitrary form bodies to the other decoders (groups,
// council sign-ups, proposals, interest, reasons): none may panic, and single-line
// answers they accept never hold a line break or invalid UTF-8.
func FuzzDecodeConsoleForms(f *testing.F) {
	f.Add("id=north-west&name=North+West&regions=North+West&description=a%0D%0Ab&contact=x@y.org")
	f.Add("council=BIR&name=Ada&email=ada@example.org&role=Head")
	f.Add("area=North%0AWest&name=%FF&email=a@b.co&why=" + strings.Repeat("x", 2001))
	f.Add("reason=%00&name=&email=@")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		safe := func(what, s string) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("%s accepted an unsafe line %q", what, s)
			}
		}
		if g, errs := decodeGroup(v, testCouncils, true); len(errs) == 0 {
			safe("group id", g.ID)
			safe("group name", g.Name)
		}
		if r, errs := decodeRegister(v, testCouncils); len(errs) == 0 {
			safe("register name", r.Name)
			safe("register role", r.Role)
			if !pg.ValidEmail(r.Email) {
				t.Fatalf("register accepted %q", r.Email)
			}
		}
		if p, errs := decodeProposal(v); len(errs) == 0 {
			safe("proposal area", p.Area)
			safe("proposal name", p.Name)
			if !utf8.ValidString(p.Why) || strings.ContainsRune(p.Why, 0) {
				t.Fatalf("proposal accepted %q", p.Why)
			}
		}
		if name, email, errs := decodeInterest(v); len(errs) == 0 {
			safe("interest name", name)
			safe("interest email", email)
		}
		if r, errs := decodeReason(v); len(errs) == 0 && (!utf8.ValidString(r) || strings.ContainsRune(r, 0)) {
			t.Fatalf("reason accepted %q", r)
		}
	})
}
