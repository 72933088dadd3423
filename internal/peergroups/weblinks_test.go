package peergroups_test

import (
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
