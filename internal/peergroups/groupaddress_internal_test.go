package peergroups

import "testing"

// An address an admin types is refused, with words, unless it is a plain local part
// that is not one of the service's own.
func TestAGroupsAddressIsAPlainLocalPartThatIsNotTheServicesOwn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		local string
		ok    bool
	}{
		{"west-mids", true},
		{"north.east", true},
		{"group2", true},
		{"", false},
		{"West-Mids", false}, // the service lower-cases before it checks
		{"west mids", false},
		{"west-mids@groups.example.org", false},
		{".west", false},
		{"west.", false},
		{"-west", false},
		{"we..st", false},
		{"west\r\nBcc: x", false},
		{"wést", false},
		{"postmaster", false},
		{"admin", false},
		{"hello", false}, // reserved by configuration below
		{string(make([]byte, 65)), false},
	} {
		if msg := checkMailbox(c.local, []string{"hello"}); (msg == "") != c.ok {
			t.Errorf("%q: %q, want accepted %v", c.local, msg, c.ok)
		}
	}
}

// A group's address is its ID until it is given another.
func TestAGroupsAddressIsItsIDUntilChanged(t *testing.T) {
	t.Parallel()
	if got := (Group{ID: "midlands"}).MailLocal(); got != "midlands" {
		t.Errorf("%q", got)
	}
	if got := (Group{ID: "midlands", Mailbox: "west-mids"}).MailLocal(); got != "west-mids" {
		t.Errorf("%q", got)
	}
}
