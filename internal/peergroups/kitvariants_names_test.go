package peergroups_test

import (
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// A group's name takes the possessive the network writes: "the Midlands’ event", never
// "Midlands’s".
func TestAGroupsNameTakesItsPossessive(t *testing.T) {
	for name, want := range map[string]string{
		"London":                   "London’s",
		"Midlands":                 "Midlands’",
		"Yorkshire and the Humber": "Yorkshire and the Humber’s",
		"south":                    "south’s",
	} {
		if got := pg.Possessive(name); got != want {
			t.Errorf("Possessive(%q) = %q, want %q", name, got, want)
		}
	}
	if got := pg.KitLabel("midlands"); got != "midlands’ version" {
		t.Errorf("KitLabel(midlands) = %q", got)
	}
}
