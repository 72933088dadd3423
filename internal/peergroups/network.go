package peergroups

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// AuditEntry records one change made by an admin or a facilitator.
type AuditEntry struct {
	At     time.Time
	Actor  string // the email address of who made the change
	Action string // "create group", "appoint facilitator", ...
	Target string // what was changed: a group ID, an address, a council code
	Before string // JSON of the thing before, or ""
	After  string // JSON of the thing after, or ""
}

// MemberRow is one line of a group's members list.
type MemberRow struct {
	Email        string
	Name         string
	CouncilCode  string
	Council      string // the council's name, when CouncilCode is set
	Organisation string
	JobTitle     string
	Status       Status
	JoinedAt     time.Time
	LeftAt       time.Time
	ExpiresAt    time.Time // of a pending membership
}

// NetworkStore is what Network keeps: groups, roles and the audit trail. Every change is
// written with its audit entry in one transaction: nothing changes unrecorded.
type NetworkStore interface {
	Groups(ctx context.Context) ([]Group, error)
	CreateGroupAudited(ctx context.Context, g Group, a AuditEntry) error
	// Group reads one group, strongly consistently: what an editor is shown and what a
	// change is checked against, never the per-instance cache.
	Group(ctx context.Context, id string) (Group, error)
	// UpdateGroup sets the fields of g named in fields (and nothing else) if the group
	// is still at g.Version, and counts a new version; otherwise it returns ErrGroupChanged.
	UpdateGroup(ctx context.Context, g Group, fields []string, a AuditEntry) error
	// SetGroupPaused pauses or resumes a group whatever its version, and counts a new version.
	SetGroupPaused(ctx context.Context, id string, paused bool, a AuditEntry) error
	GroupMembers(ctx context.Context, group string, status Status) ([]MemberRow, error)
	// GroupMembersPage returns up to limit members of a group with a status in the
	// order of their addresses, starting after the address from (or, with backward set,
	// the limit before it, still in ascending order), and whether there are more that way.
	GroupMembersPage(ctx context.Context, group string, status Status, from string, backward bool, limit int, now time.Time) ([]MemberRow, bool, error)
	SetRole(ctx context.Context, email, role, group string, grant bool, a AuditEntry) error
	RoleHolders(ctx context.Context, role, group string) ([]string, error)
	Audit(ctx context.Context, limit int, before string) ([]AuditEntry, string, error)
}

// FacilitatorInviter emails a new facilitator their invitation to sign in (Access does).
type FacilitatorInviter interface {
	InviteFacilitator(ctx context.Context, email string, g Group) error
}

// groupsCacheTTL is how long an instance keeps the list of groups.
const groupsCacheTTL = time.Minute

// Network is the running of the network: its groups, their facilitators and members,
// the admins, and the audit trail of every change they make.
type Network struct {
	Env
	Store    NetworkStore
	Councils *Councils
	// Admins are the addresses that are admins by configuration (ADMIN_EMAILS).
	Admins  []string
	Inviter FacilitatorInviter
	// Addresses changes the groups' addresses (nil: they cannot be changed), and
	// ReservedMailboxes are local parts no group may take beside ReservedMailboxes
	// (the service's own addresses').
	Addresses         GroupAddressStore
	ReservedMailboxes []string
	// Pseudonym is the key of the names the audit trail gives people (nil: the
	// entries are shown as they were written).
	Pseudonym func(parts ...string) string

	mu       sync.Mutex
	groups   []Group
	groupsAt time.Time
}

// Groups returns every group, cached for a minute per instance.
func (s *Network) Groups(ctx context.Context) ([]Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if s.groups != nil && now.Sub(s.groupsAt) < groupsCacheTTL {
		return s.groups, nil
	}
	groups, err := s.Store.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	s.groups, s.groupsAt = groups, now
	return groups, nil
}

// ErrGroupChanged is returned when a group changed after the editor saw it: nothing
// of the edit was saved.
var ErrGroupChanged = &Error{Kind: KindConflict, Message: "Someone else changed this group while you were editing it. Your changes have not been saved."}

// The fields of a group an edit can change, as UpdateGroup names them.
const (
	FieldName        = "name"
	FieldRegions     = "regions"
	FieldDescription = "description"
	FieldContact     = "contact"
)

// The fields of the admin's form, and of the facilitator's (what people see).
var (
	AllGroupFields    = []string{FieldName, FieldRegions, FieldDescription, FieldContact}
	PublicGroupFields = []string{FieldDescription, FieldContact}
)

// ChangedFields returns the editable fields in which after differs from before.
func ChangedFields(before, after Group) []string {
	var fields []string
	if before.Name != after.Name {
		fields = append(fields, FieldName)
	}
	if !slices.Equal(before.Regions, after.Regions) {
		fields = append(fields, FieldRegions)
	}
	if before.Description != after.Description {
		fields = append(fields, FieldDescription)
	}
	if before.Contact != after.Contact {
		fields = append(fields, FieldContact)
	}
	return fields
}

// ErrForbidden is returned when the caller may not do what they asked.
var ErrForbidden = &Error{Kind: KindForbidden, Message: "You do not have permission to do that."}

// validGroupID reports whether id is 1 to 40 lower-case letters, digits and hyphens,
// starting and ending with a letter or digit. (A regular expression for this costs
// every cold start a compile of its 40-fold repetition.)
func validGroupID(id string) bool {
	if len(id) < 1 || len(id) > 40 || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Regions returns every region and nation that has councils, sorted.
func (c *Councils) Regions() []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range c.All() {
		if x.Region != "" && !seen[x.Region] {
			seen[x.Region] = true
			out = append(out, x.Region)
		}
	}
	sort.Strings(out)
	return out
}

// ForgetGroups drops this instance's cached group list after a change (here, or a
// group made elsewhere: an approved proposal's).
func (s *Network) ForgetGroups() {
	s.mu.Lock()
	s.groups = nil
	s.mu.Unlock()
}

// Group returns one group.
func (s *Network) Group(ctx context.Context, id string) (Group, error) {
	groups, err := s.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	g, ok := FindGroup(groups, id)
	if !ok {
		// The cache may be a minute old: ask the table before saying no.
		s.ForgetGroups()
		if groups, err = s.Groups(ctx); err != nil {
			return Group{}, err
		}
		if g, ok = FindGroup(groups, id); !ok {
			return Group{}, Errorf(KindNotFound, "There is no group called %s.", id)
		}
	}
	return g, nil
}

// ValidateGroup checks a group as the admin's form gives it, in the order of the form's
// fields. With create set it also checks the group's ID.
func ValidateGroup(g Group, councils *Councils, create bool) FieldErrors {
	var errs FieldErrors
	if create {
		switch {
		case g.ID == "":
			errs.add("id", "Enter a short name for the web address, like north-west")
		case !validGroupID(g.ID):
			errs.add("id", "Short name must be 1 to 40 lower-case letters, numbers and hyphens, starting and ending with a letter or number")
		}
	}
	errs.line("name", g.Name, "Name", 100, "Enter the group’s name")
	known := councils.Regions()
	for _, r := range g.Regions {
		if !slices.Contains(known, r) {
			errs.add("regions", "Select regions from the list")
			break
		}
	}
	if len(g.Regions) == 0 && errs.For("regions") == "" {
		errs.add("regions", "Select the regions the group covers")
	}
	return append(errs, ValidateGroupPublic(g)...)
}

// ValidateGroupPublic checks what people see about a group, all a facilitator may
// change: its description (several lines) and contact address (optional).
func ValidateGroupPublic(g Group) FieldErrors {
	var errs FieldErrors
	errs.paragraph("description", g.Description, "Description", 1000, "")
	if g.Contact != "" {
		if msg := checkEmail(g.Contact); msg != "" {
			errs.add("contact", strings.Replace(msg, "Email address", "Contact address", 1))
		}
	}
	return errs
}

// CreateGroup adds a group. Admins only.
func (s *Network) CreateGroup(ctx context.Context, c Caller, g Group) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := ValidateGroup(g, s.Councils, true).Err(); err != nil {
		return err
	}
	if err := s.Store.CreateGroupAudited(ctx, g, s.audit(c, "create group", g.ID, nil, g)); err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	s.ForgetGroups()
	return nil
}

// GroupForEdit returns a group as stored now, for a form that changes it: its
// version is the one the form carries. The group's facilitators and admins only.
func (s *Network) GroupForEdit(ctx context.Context, c Caller, id string) (Group, error) {
	if !c.CanFacilitate(id) {
		return Group{}, ErrForbidden
	}
	g, err := s.Store.Group(ctx, id)
	if err != nil {
		return Group{}, fmt.Errorf("read group %s: %w", id, err)
	}
	return g, nil
}

// UpdateGroup changes a group as edited from version g.Version, in the fields its form
// carries (AllGroupFields or PublicGroupFields). Admins may change every field but
// whether it is paused (SetPaused does that); a group's facilitators its description and
// contact address. Only the fields that differ from what is stored are written, and only
// if nobody changed the group since the editor saw it: otherwise ErrGroupChanged, and
// nothing is saved.
func (s *Network) UpdateGroup(ctx context.Context, c Caller, g Group, form []string) error {
	if !c.CanFacilitate(g.ID) {
		return ErrForbidden
	}
	for _, f := range form {
		if !slices.Contains(PublicGroupFields, f) && (!c.Admin || !slices.Contains(AllGroupFields, f)) {
			return ErrForbidden
		}
	}
	check := ValidateGroupPublic(g)
	if slices.Contains(form, FieldName) || slices.Contains(form, FieldRegions) {
		check = ValidateGroup(g, s.Councils, false)
	}
	if err := check.Err(); err != nil {
		return err
	}
	before, err := s.Store.Group(ctx, g.ID)
	if err != nil {
		return fmt.Errorf("update group: %w", err)
	}
	if before.Version != g.Version {
		return ErrGroupChanged
	}
	after := before
	for _, f := range form {
		switch f {
		case FieldName:
			after.Name = g.Name
		case FieldRegions:
			after.Regions = g.Regions
		case FieldDescription:
			after.Description = g.Description
		case FieldContact:
			after.Contact = g.Contact
		}
	}
	fields := ChangedFields(before, after)
	if len(fields) == 0 {
		return nil
	}
	saved := after
	saved.Version++
	if err := s.Store.UpdateGroup(ctx, after, fields, s.audit(c, "change group", g.ID, before, saved)); err != nil {
		return fmt.Errorf("update group: %w", err)
	}
	s.ForgetGroups()
	return nil
}

// SetPaused pauses or resumes a group. Admins only. A paused group takes no new members.
// It changes nothing else of the group, so no edit made at the same time is lost.
func (s *Network) SetPaused(ctx context.Context, c Caller, id string, paused bool) error {
	if !c.Admin {
		return ErrForbidden
	}
	before, err := s.Store.Group(ctx, id)
	if err != nil {
		return fmt.Errorf("read group %s: %w", id, err)
	}
	if before.Paused == paused {
		return nil
	}
	after := before
	after.Paused, after.Version = paused, before.Version+1
	action := "resume group"
	if paused {
		action = "pause group"
	}
	if err := s.Store.SetGroupPaused(ctx, id, paused, s.audit(c, action, id, before, after)); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	s.ForgetGroups()
	return nil
}
