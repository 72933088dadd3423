package peergroups_test

import (
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The gazetteer names a council from what a person wrote: its official name in any
// case, that name without "Council", or its short name written as a name is; a word
// that only looks like one ("reading" the Standard), two councils, or none name none.
func TestACouncilIsFoundByTheNamesPeopleWrite(t *testing.T) {
	councils := pg.NewCouncils([]pg.Council{
		{Code: "BIR", Name: "Birmingham City Council"},
		{Code: "RDG", Name: "Reading Borough Council"},
		{Code: "KEN", Name: "Kent County Council"},
		{Code: "CMD", Name: "London Borough of Camden"},
		{Code: "ABE", Name: "Aberdeen City Council"},
		{Code: "ABD", Name: "Aberdeenshire Council"},
	})
	for _, tc := range []struct{ text, want string }{
		{"We are Birmingham City Council.", "BIR"},
		{"sign up birmingham city council please", "BIR"},
		{"Sign Birmingham City up to the Standard", "BIR"},
		{"We're in Birmingham.", "BIR"},
		{"Kent would like to sign up", "KEN"},
		{"we are in kent", ""},
		{"I was reading the Standard", ""},
		{"Reading Borough Council wants to sign", "RDG"},
		{"Camden would like to join", "CMD"},
		{"Aberdeen City Council", "ABE"},
		{"Aberdeenshire Council and Kent County Council", ""},
		{"Our council wants to sign the Standard", ""},
	} {
		c, ok := councils.Find(tc.text)
		if got := map[bool]string{true: c.Code}[ok]; got != tc.want {
			t.Errorf("%q: found %q, want %q", tc.text, got, tc.want)
		}
	}
}
