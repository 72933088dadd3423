package peergroups

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Europe/London even where the system has no zone files
)

// Group is a regional peer group. Regions are the English regions (or nations) whose
// councils it serves, spelled as in the council data ("East Midlands").
type Group struct {
	ID          string
	Name        string
	Description string
	Regions     []string
	Contact     string
	Paused      bool
	// Mailbox is the local part of the group's address at the groups' mail domain,
	// when an admin gave it one; "" for its ID (see MailLocal).
	Mailbox string
	// Version counts the changes made to the group. An edit is saved only if the group
	// is still at the version the editor saw, so that no edit undoes another unseen.
	Version int
}

// Area describes the regions a group covers, for people.
func (g Group) Area() string {
	switch len(g.Regions) {
	case 0:
		return ""
	case 1:
		return g.Regions[0]
	default:
		return strings.Join(g.Regions[:len(g.Regions)-1], ", ") + " and " + g.Regions[len(g.Regions)-1]
	}
}

// Covers reports whether the group serves councils in region.
func (g Group) Covers(region string) bool { return slices.Contains(g.Regions, region) }

// Council is a UK local authority from the council data.
type Council struct {
	Code   string // the local-authority-code, for example "BIR"
	Name   string // the official name
	Nation string
	Region string
}

// Councils is the list of current councils, sorted by name, with lookup by code. The
// sorted list and the index are built on first use: most requests never look at a
// council, so a cold start does not pay for them.
type Councils struct {
	index func() councilIndex
}

type councilIndex struct {
	list   []Council
	byCode map[string]Council
}

// NewCouncils returns the councils, sorted by name. It keeps list, which the caller
// must not change afterwards (the council table is a package variable no one writes).
func NewCouncils(list []Council) *Councils {
	return &Councils{index: sync.OnceValue(func() councilIndex {
		x := councilIndex{list: slices.Clone(list), byCode: make(map[string]Council, len(list))}
		sort.Slice(x.list, func(i, j int) bool { return x.list[i].Name < x.list[j].Name })
		for _, c := range x.list {
			x.byCode[c.Code] = c
		}
		return x
	})}
}

// All returns every council, sorted by name.
func (c *Councils) All() []Council { return c.index().list }

// Lookup returns the council with the given code.
func (c *Councils) Lookup(code string) (Council, bool) {
	x, ok := c.index().byCode[code]
	return x, ok
}

// Membership statuses. A pending membership is a sign-up not yet confirmed; it lives in
// the pending Signup and expires with it.
type Status string

const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusLeft      Status = "left"
)

// Profile is what a person told us about themselves, and the evidence of their consent.
type Profile struct {
	Name         string
	CouncilCode  string // empty when Organisation is set
	Organisation string
	JobTitle     string
	Facilitate   bool
	ConsentAt    time.Time // when they confirmed by email
	ConsentForm  string    // which form they confirmed: "join", "manage"
}

// Membership is a person's place in one group.
type Membership struct {
	GroupID  string
	Status   Status
	JoinedAt time.Time
	LeftAt   time.Time
}

// Interest records that a person wants to hear when a group starts in their region.
type Interest struct {
	Region string
	At     time.Time
}

// Signup is a pending request to join, waiting for its confirmation link to be followed.
type Signup struct {
	Email     string
	Profile   Profile
	Groups    []string // groups to join on confirmation
	Interest  string   // region to register interest in on confirmation, or ""
	Form      string   // the form it came from: "join"
	NonceHash string   // hash of the nonce in the newest confirmation link
	CreatedAt time.Time
	ExpiresAt time.Time
	// ErasedHash is the keyed hash an erased address is suppressed by (ErasedHash):
	// confirming the sign-up lifts that suppression, in the same transaction.
	ErasedHash string
}

// Expired reports whether the signup can no longer be confirmed at now. TTL deletion
// is lazy, so this is checked whenever a signup is read.
func (s Signup) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// Person is everything stored about one email address.
type Person struct {
	Email       string
	Known       bool // a profile exists: they confirmed at least once
	Profile     Profile
	Memberships []Membership
	Interests   []Interest
	Signup      *Signup  // nil when none is pending
	Admin       bool     // appointed as an admin in the console
	Facilitates []string // the groups they facilitate
	Suppressed  string   // why the address is on our suppression list (bounces, a complaint), or ""
}

// Membership returns the person's membership of a group.
func (p Person) Membership(groupID string) (Membership, bool) {
	for _, m := range p.Memberships {
		if m.GroupID == groupID {
			return m, true
		}
	}
	return Membership{}, false
}

// IsMember reports whether the person is a confirmed member of the group.
func (p Person) IsMember(groupID string) bool {
	m, ok := p.Membership(groupID)
	return ok && m.Status == StatusConfirmed
}

// ConfirmedGroups returns the IDs of the groups the person is a confirmed member of.
func (p Person) ConfirmedGroups() []string {
	var ids []string
	for _, m := range p.Memberships {
		if m.Status == StatusConfirmed {
			ids = append(ids, m.GroupID)
		}
	}
	return ids
}

// GroupsForRegion returns the active groups that serve a region.
func GroupsForRegion(groups []Group, region string) []Group {
	var out []Group
	for _, g := range groups {
		if !g.Paused && g.Covers(region) {
			out = append(out, g)
		}
	}
	return out
}

// FindGroup returns the group with the given ID.
func FindGroup(groups []Group, id string) (Group, bool) {
	for _, g := range groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// StartingGroups are the groups the network starts with, seeded into a new table.
func StartingGroups() []Group {
	return []Group{
		{ID: "london", Name: "London", Regions: []string{"London"}, Description: "For the London boroughs and the City of London."},
		{ID: "midlands", Name: "Midlands", Regions: []string{"East Midlands", "West Midlands"}, Description: "For councils in the East and West Midlands."},
		{ID: "yorkshire", Name: "Yorkshire and the Humber", Regions: []string{"Yorkshire and The Humber"}, Description: "For councils in Yorkshire and the Humber."},
		{ID: "south", Name: "South", Regions: []string{"South East", "South West"}, Description: "For councils in the South East and South West."},
	}
}
