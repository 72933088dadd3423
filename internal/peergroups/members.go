package peergroups

import (
	"context"
	"fmt"
	"slices"

	"github.com/peergroups/peergroups/internal/links"
)

// Members lists a group's members with a status. Its facilitators and admins only.
func (s *Network) Members(ctx context.Context, c Caller, group string, status Status) ([]MemberRow, error) {
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
func (s *Network) MembersPageAt(ctx context.Context, c Caller, group string, status Status, cursor string) (MembersPage, error) {
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
