package peergroups

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
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

// AdminStore keeps what the consoles change. Every change is written with its audit
// entry in one transaction: nothing changes unrecorded.
type AdminStore interface {
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

// DecodeGroup reads the group form. With create set it also reads the group's ID.
func DecodeGroup(v url.Values, councils *Councils, create bool) (Group, FieldErrors) {
	var g Group
	var errs FieldErrors
	if create {
		g.ID, _ = text(v, "id")
		switch {
		case g.ID == "":
			errs.add("id", "Enter a short name for the web address, like north-west")
		case !validGroupID(g.ID):
			errs.add("id", "Short name must be 1 to 40 lower-case letters, numbers and hyphens, starting and ending with a letter or number")
		}
	}
	g.Name = errs.line(v, "name", "Name", 100, "Enter the group’s name")
	known := councils.Regions()
	for _, r := range v["regions"] {
		if !slices.Contains(known, r) {
			errs.add("regions", "Select regions from the list")
			break
		}
		if !slices.Contains(g.Regions, r) {
			g.Regions = append(g.Regions, r)
		}
	}
	if len(g.Regions) == 0 && errs.For("regions") == "" {
		errs.add("regions", "Select the regions the group covers")
	}
	g.Description, g.Contact = decodePublic(v, &errs)
	if !create {
		g.Version = decodeVersion(v)
	}
	return g, errs
}

// decodeVersion reads the version of the group the editor saw, from the form's hidden
// field; -1, which no group has, when it is missing or not a number.
func decodeVersion(v url.Values) int {
	n, err := strconv.Atoi(v.Get("version"))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// decodePublic reads what people see about a group: its description (several lines)
// and contact address (optional).
func decodePublic(v url.Values, errs *FieldErrors) (description, contact string) {
	description = errs.paragraph(v, "description", "Description", 1000, "")
	contact, _ = text(v, "contact")
	if contact != "" {
		if msg := checkEmail(contact); msg != "" {
			errs.add("contact", strings.Replace(msg, "Email address", "Contact address", 1))
		}
	}
	return description, contact
}

// DecodeFacilitatorEdit reads what a facilitator may change: description and contact.
func DecodeFacilitatorEdit(v url.Values, g Group) (Group, FieldErrors) {
	var errs FieldErrors
	g.Description, g.Contact = decodePublic(v, &errs)
	g.Version = decodeVersion(v)
	return g, errs
}

func (s *Service) audit(c Caller, action, target string, before, after any) AuditEntry {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return AuditEntry{At: s.Now(), Actor: c.Email, Action: action, Target: target, Before: enc(before), After: enc(after)}
}

// forgetGroups drops this instance's cached group list after a change.
func (s *Service) forgetGroups() {
	s.mu.Lock()
	s.groups = nil
	s.mu.Unlock()
}

// Group returns one group.
func (s *Service) Group(ctx context.Context, id string) (Group, error) {
	groups, err := s.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	g, ok := FindGroup(groups, id)
	if !ok {
		// The cache may be a minute old: ask the table before saying no.
		s.forgetGroups()
		if groups, err = s.Groups(ctx); err != nil {
			return Group{}, err
		}
		if g, ok = FindGroup(groups, id); !ok {
			return Group{}, Errorf(KindNotFound, "There is no group called %s.", id)
		}
	}
	return g, nil
}

// CreateGroup adds a group. Admins only.
func (s *Service) CreateGroup(ctx context.Context, c Caller, g Group) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := s.Store.CreateGroupAudited(ctx, g, s.audit(c, "create group", g.ID, nil, g)); err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	s.forgetGroups()
	return nil
}

// GroupForEdit returns a group as stored now, for a form that changes it: its
// version is the one the form carries. The group's facilitators and admins only.
func (s *Service) GroupForEdit(ctx context.Context, c Caller, id string) (Group, error) {
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
func (s *Service) UpdateGroup(ctx context.Context, c Caller, g Group, form []string) error {
	if !c.CanFacilitate(g.ID) {
		return ErrForbidden
	}
	for _, f := range form {
		if !slices.Contains(PublicGroupFields, f) && (!c.Admin || !slices.Contains(AllGroupFields, f)) {
			return ErrForbidden
		}
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
	s.forgetGroups()
	return nil
}

// SetPaused pauses or resumes a group. Admins only. A paused group takes no new members.
// It changes nothing else of the group, so no edit made at the same time is lost.
func (s *Service) SetPaused(ctx context.Context, c Caller, id string, paused bool) error {
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
	s.forgetGroups()
	return nil
}

// Members lists a group's members with a status. Its facilitators and admins only.
func (s *Service) Members(ctx context.Context, c Caller, group string, status Status) ([]MemberRow, error) {
	if !c.CanFacilitate(group) {
		return nil, ErrForbidden
	}
	switch status {
	case StatusConfirmed, StatusPending, StatusLeft:
	default:
		return nil, Errorf(KindInvalid, "Choose confirmed, pending or left members")
	}
	rows, err := s.Store.GroupMembers(ctx, group, status)
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", group, err)
	}
	for i := range rows {
		if c, ok := s.Councils.Lookup(rows[i].CouncilCode); ok {
			rows[i].Council = c.Name
		}
	}
	if status == StatusPending {
		// TTL deletion is lazy: leave out what has expired.
		now := s.Now()
		rows = slices.DeleteFunc(rows, func(r MemberRow) bool { return !now.Before(r.ExpiresAt) })
	}
	return rows, nil
}

// MembersPerPage is how many members a page of a group's members list shows.
const MembersPerPage = 100

// membersCursor is the purpose of the sealed cursors of the members list's pages.
const membersCursor links.Purpose = "members-page"

// MembersPage is one page of a group's members with a status.
type MembersPage struct {
	Rows  []MemberRow
	First int    // the position of the first row in the whole list, from 1
	Prev  string // the cursor of the page before, "" on the first page
	Next  string // the cursor of the page after, "" on the last page
}

// ErrMembersCursor is returned for a page cursor that is not ours, is for another list,
// or has expired.
var ErrMembersCursor = &Error{Kind: KindInvalid, Message: "That page of the members list is out of date. Start again from the first page."}

// MembersPageAt returns a page of a group's members with a status: the first page for
// an empty cursor, else the page a cursor of an earlier page points to. Cursors are
// sealed (opaque, bound to the group and status, and expiring with a session), so the
// address they carry is not shown in web addresses or logs and cannot be forged.
// Its facilitators and admins only.
func (s *Service) MembersPageAt(ctx context.Context, c Caller, group string, status Status, cursor string) (MembersPage, error) {
	if !c.CanFacilitate(group) {
		return MembersPage{}, ErrForbidden
	}
	switch status {
	case StatusConfirmed, StatusPending, StatusLeft:
	default:
		return MembersPage{}, Errorf(KindInvalid, "Choose confirmed, pending or left members")
	}
	var from string
	var backward bool
	var offset int // how many members come before from (forward) or before the page (backward, at from)
	if cursor != "" {
		claims, err := s.Links.Open(cursor, membersCursor)
		if err != nil {
			return MembersPage{}, ErrMembersCursor
		}
		var g, st, dir string
		if _, err := fmt.Sscanf(claims.Subject, "%s %s %s %d", &g, &st, &dir, &offset); err != nil || g != group || st != string(status) || (dir != "after" && dir != "before") || offset < 0 {
			return MembersPage{}, ErrMembersCursor
		}
		from, backward = claims.Email, dir == "before"
	}
	rows, more, err := s.Store.GroupMembersPage(ctx, group, status, from, backward, MembersPerPage, s.Now())
	if err != nil {
		return MembersPage{}, fmt.Errorf("list members of %s: %w", group, err)
	}
	for i := range rows {
		if c, ok := s.Councils.Lookup(rows[i].CouncilCode); ok {
			rows[i].Council = c.Name
		}
	}
	p := MembersPage{Rows: rows, First: offset + 1}
	hasPrev, hasNext := from != "", more
	if backward {
		p.First = max(1, offset-len(rows)+1)
		if !more {
			p.First = 1
		}
		hasPrev, hasNext = more, true
	}
	if len(rows) == 0 {
		return p, nil
	}
	seal := func(email, dir string, offset int) (string, error) {
		return s.Links.Seal(links.Claims{Purpose: membersCursor, Email: email, Subject: fmt.Sprintf("%s %s %s %d", group, status, dir, offset)}, SessionTTL)
	}
	if hasPrev {
		if p.Prev, err = seal(rows[0].Email, "before", p.First-1); err != nil {
			return MembersPage{}, err
		}
	}
	if hasNext {
		if p.Next, err = seal(rows[len(rows)-1].Email, "after", p.First-1+len(rows)); err != nil {
			return MembersPage{}, err
		}
	}
	return p, nil
}

// Facilitators lists the addresses of a group's facilitators.
func (s *Service) Facilitators(ctx context.Context, c Caller, group string) ([]string, error) {
	if !c.CanFacilitate(group) {
		return nil, ErrForbidden
	}
	return s.Store.RoleHolders(ctx, RoleFacilitator, group)
}

// AppointFacilitator makes an address a facilitator of a group and emails them an
// invitation with a sign-in link. Admins only.
func (s *Service) AppointFacilitator(ctx context.Context, c Caller, group, email string) error {
	if !c.Admin {
		return ErrForbidden
	}
	g, err := s.Group(ctx, group)
	if err != nil {
		return err
	}
	email = NormaliseEmail(email)
	if err := s.Store.SetRole(ctx, email, RoleFacilitator, group, true, s.audit(c, "appoint facilitator", group+" "+email, nil, map[string]string{"group": group, "email": email})); err != nil {
		return fmt.Errorf("appoint facilitator: %w", err)
	}
	return s.inviteFacilitator(ctx, email, g)
}

func (s *Service) inviteFacilitator(ctx context.Context, email string, g Group) error {
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("invite facilitator: %w", err)
	}
	return s.sendSignInLink(ctx, person, InvitationLinkTTL, nil, "invite-facilitator", emailData{Groups: []Group{g}})
}

// RemoveFacilitator takes an address off a group's facilitators. Admins only.
func (s *Service) RemoveFacilitator(ctx context.Context, c Caller, group, email string) error {
	if !c.Admin {
		return ErrForbidden
	}
	email = NormaliseEmail(email)
	if err := s.Store.SetRole(ctx, email, RoleFacilitator, group, false, s.audit(c, "remove facilitator", group+" "+email, map[string]string{"group": group, "email": email}, nil)); err != nil {
		return fmt.Errorf("remove facilitator: %w", err)
	}
	return nil
}

// AdminList lists the appointed admins and those set by configuration.
func (s *Service) AdminList(ctx context.Context, c Caller) (appointed, configured []string, err error) {
	if !c.Admin {
		return nil, nil, ErrForbidden
	}
	appointed, err = s.Store.RoleHolders(ctx, RoleAdmin, "")
	return appointed, s.Admins, err
}

// SetAdmin appoints or removes an admin. Admins only; nobody removes themselves, so
// the network is never left without an admin by accident.
func (s *Service) SetAdmin(ctx context.Context, c Caller, email string, grant bool) error {
	if !c.Admin {
		return ErrForbidden
	}
	email = NormaliseEmail(email)
	if !grant && email == c.Email {
		return Errorf(KindInvalid, "You cannot remove yourself as an admin. Ask another admin.")
	}
	action, before, after := "appoint admin", any(nil), any(email)
	if !grant {
		action, before, after = "remove admin", email, nil
	}
	if err := s.Store.SetRole(ctx, email, RoleAdmin, "", grant, s.audit(c, action, email, before, after)); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}

// AuditTrail returns the newest changes, 50 at a time, before a cursor. Admins only.
func (s *Service) AuditTrail(ctx context.Context, c Caller, before string) ([]AuditEntry, string, error) {
	if !c.Admin {
		return nil, "", ErrForbidden
	}
	return s.Store.Audit(ctx, 50, before)
}
