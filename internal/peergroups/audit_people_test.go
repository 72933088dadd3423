package peergroups_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// An entry written pseudonymously is found under each person it names, whatever field
// names them, and under nobody else.
func TestAnAuditEntryIsFoundUnderEachPersonItNames(t *testing.T) {
	keys, err := links.NewKeyring(bytes.Repeat([]byte{7}, 32), nil, time.Time{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ada, bob := pg.ErasedHash(keys.PersonPseudonym, "ada@example.org"), pg.ErasedHash(keys.PersonPseudonym, "Bob@Example.org")
	a := pg.PseudonymousEntry(pg.AuditEntry{
		Actor: "ada@example.org", Action: "appoint facilitator", Target: "london bob@example.org",
		Before: `{"facilitators":["ada@example.org"]}`, After: `{"facilitators":["ada@example.org","bob@example.org"]}`,
	}, keys.PersonPseudonym)
	if got := pg.PeopleNamed(a.Actor, a.Action, a.Target, a.Before, a.After); !slices.Equal(got, []string{ada, bob}) {
		t.Errorf("people named: %v, want ada's and bob's hashes once each %v", got, []string{ada, bob})
	}
	for _, none := range []string{"", "london", "person (not named)", "person " + ada[:40], "person " + ada + "x"} {
		if got := pg.PeopleNamed(none); len(got) != 0 {
			t.Errorf("%q names %v, want nobody", none, got)
		}
	}
	if got := pg.PeopleNamed(`{"to":"person ` + bob + `"}`); !slices.Equal(got, []string{bob}) {
		t.Errorf("a name inside JSON: %v", got)
	}
}
