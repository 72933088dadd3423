package peergroups_test

import (
	"net/url"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestHasWebAddress(t *testing.T) {
	for _, tc := range []struct {
		text string
		link bool
	}{
		{"Ada Lovelace", false},
		{"St. Helens Council", false},
		{"J. Smith", false},
		{"J.Smith", false},
		{"O'Neil", false},
		{"Dr. A. N. Other", false},
		{"N.E. Lincolnshire Council", false},
		{"Anne-Marie Smith-Jones", false},
		{"Head of Digital (Vue.js and Node.js)", false},
		{"Version 2.0 lead", false},
		{"ÆØÅ Ünïcødé Nàmé", false},
		{"Mary . Com", false}, // not joined: no mail program links it
		{"example.com", true},
		{"Visit EXAMPLE.COM today", true},
		{"evil.co.uk/x", true},
		{"(see evil.london)", true},
		{"ada@evil.org", true},
		{"evil.com.", true},
		{"evil.com.x", true},
		{"https://evil", true},
		{"ftp://x", true},
		{"hxxp://x", true},
		{"www.evil", true},
		{"WWW.EVIL", true},
		{"evil。com", true},  // an ideographic full stop
		{"evil．com", true},  // a fullwidth full stop
		{"пример.рф", true}, // a domain in Cyrillic
		{"example.xn--p1ai", true},
		{"bit.ly/abc", true},
	} {
		if got := pg.HasWebAddress(tc.text); got != tc.link {
			t.Errorf("HasWebAddress(%q) = %v, want %v", tc.text, got, tc.link)
		}
	}
}

// Every short answer that goes into an email sent to a typed address refuses a web
// address with its own message, and keeps the answer; names people really have pass.
func TestShortAnswersInEmailsCannotCarryALink(t *testing.T) {
	type decoder func(url.Values) pg.FieldErrors
	details := func(v url.Values) pg.FieldErrors { _, errs := pg.DecodeDetails(v, testCouncils); return errs }
	proposal := func(v url.Values) pg.FieldErrors { _, errs := pg.DecodeProposal(v); return errs }
	interest := func(v url.Values) pg.FieldErrors { _, _, errs := pg.DecodeInterest(v); return errs }
	register := func(v url.Values) pg.FieldErrors { _, errs := pg.DecodeRegister(v, testCouncils); return errs }
	valid := map[string]url.Values{
		"join":     form("council", pg.NotACouncil, "organisation", "Acme Ltd", "jobTitle", "Head of Digital"),
		"proposal": {"area": {"North West"}, "name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "why": {"Because."}},
		"interest": {"name": {"Ada Lovelace"}, "email": {"ada@example.org"}},
		"register": {"council": {"BIR"}, "name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "role": {"Head of Digital"}},
	}
	for _, tc := range []struct {
		form, field, message string
		decode               decoder
	}{
		{"join", "name", "Enter your full name without a web address", details},
		{"join", "organisation", "Enter the name of your organisation without a web address", details},
		{"join", "jobTitle", "Enter your job title without a web address", details},
		{"proposal", "area", "Enter the area without a web address", proposal},
		{"proposal", "name", "Enter your full name without a web address", proposal},
		{"interest", "name", "Enter your full name without a web address", interest},
		{"register", "name", "Enter your full name without a web address", register},
		{"register", "role", "Enter your role without a web address", register},
	} {
		t.Run(tc.form+" "+tc.field, func(t *testing.T) {
			if errs := tc.decode(valid[tc.form]); len(errs) != 0 {
				t.Fatalf("the valid form is refused: %v", errs)
			}
			for _, bad := range []string{"Win a prize at evil.co.uk/x", "https://evil.example", "www.evil", "Ada example.com"} {
				v := clone(valid[tc.form])
				v.Set(tc.field, bad)
				errs := tc.decode(v)
				if got := errs.For(tc.field); got != tc.message {
					t.Errorf("%q: message %q, want %q", bad, got, tc.message)
				}
				if len(errs) != 1 {
					t.Errorf("%q: %d problems, want only the %s's: %v", bad, len(errs), tc.field, errs)
				}
			}
			for _, good := range []string{"St. Helens Council", "J. Smith", "O'Neil", "Smith & Co."} {
				v := clone(valid[tc.form])
				v.Set(tc.field, good)
				if errs := tc.decode(v); len(errs) != 0 {
					t.Errorf("%q is refused: %v", good, errs)
				}
			}
		})
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// FuzzHasWebAddress: anything a mail program would link (a scheme, www., a dot before
// a common top-level domain) is found wherever it sits in a name.
func FuzzHasWebAddress(f *testing.F) {
	f.Add("Ada", "evil", "com")
	f.Add("St. Helens", "x", "co.uk")
	f.Add("O'Neil", "bit", "ly")
	f.Fuzz(func(t *testing.T, name, host, tld string) {
		pg.HasWebAddress(name + host + tld) // never panics
		if !isLabel(host) {
			return
		}
		for _, tld := range []string{"com", "org", "uk", "co.uk", "london", "gov.uk"} {
			for _, s := range []string{name + " " + host + "." + tld, host + "." + tld + "/" + name, name + " https://" + host, name + " www." + host} {
				if !pg.HasWebAddress(s) {
					t.Fatalf("HasWebAddress(%q) = false", s)
				}
			}
		}
	})
}

func isLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
