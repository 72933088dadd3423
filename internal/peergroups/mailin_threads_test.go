package peergroups_test

import (
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestOnlyMessageIDsThatSESGaveAreLookedUp(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0102019a-abc-000000@eu-west-2.amazonses.com": "0102019a-abc-000000",
		"0102019a-abc@email.amazonses.com":            "0102019a-abc",
		"x@EU-WEST-1.AMAZONSES.COM":                   "x",
		"reply-1@birmingham.gov.uk":                   "",
		"a@amazonses.com.evil.example":                "",
		"a#b@eu-west-2.amazonses.com":                 "",
		"@eu-west-2.amazonses.com":                    "",
		"0102019a":                                    "",
	} {
		got, ok := pg.SESMessageID(in)
		if got != want || ok != (want != "") {
			t.Errorf("SESMessageID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
