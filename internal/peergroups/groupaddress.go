// Group addresses: the local part of the address (at the groups' mail domain) whose
// mail goes to a group's facilitators. A group's address is its ID until an admin
// gives it another; each address is one group's, and none is one of the service's own
// (admin@, postmaster@, ...). A changed address keeps working for MailboxGrace, so
// that mail from people who still have the old one is not lost; then it is refused.

package peergroups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MailboxGrace is how long a group's former address is still received, and kept from
// any other group, after it was changed.
const MailboxGrace = 90 * 24 * time.Hour

// MaxMailboxLength is the most characters of a local part (RFC 5321).
const MaxMailboxLength = 64

// ReservedMailboxes are local parts no group may take: the role addresses that RFC
// 2142 and mail providers expect, and words that would look like the service's own.
var ReservedMailboxes = []string{
	"abuse", "admin", "administrator", "bounce", "bounces", "hostmaster", "info", "mailer-daemon",
	"no-reply", "noreply", "peergroups", "postmaster", "reply", "root", "security", "support", "webmaster",
}

// MailLocal is the local part of the group's address: the one an admin gave it, or its ID.
func (g Group) MailLocal() string {
	if g.Mailbox != "" {
		return g.Mailbox
	}
	return g.ID
}

// GroupMailbox is an address claimed by a group: its current one (Until zero), or a
// former one, still received until Until.
type GroupMailbox struct {
	Local string
	Group string
	Until time.Time
}

// GroupMailboxes finds the group an address is claimed by.
type GroupMailboxes interface {
	// GroupMailbox returns the claim on a local part; a KindNotFound error when there is none.
	GroupMailbox(ctx context.Context, local string) (GroupMailbox, error)
}

// GroupAddressStore changes a group's address.
type GroupAddressStore interface {
	// ChangeGroupMailbox sets the group's address to after.Mailbox (its ID when "") and
	// counts a new version, if the group is still at before.Version (ErrGroupChanged
	// otherwise); claims after's address, if no other group holds it at now (a
	// KindConflict error otherwise); keeps before's address for the group until until;
	// and records the audit entry: in one transaction.
	ChangeGroupMailbox(ctx context.Context, before, after Group, now, until time.Time, a AuditEntry) error
}

// checkMailbox returns what is wrong with a local part an admin typed, or "".
func checkMailbox(local string, reserved []string) string {
	switch {
	case local == "":
		return "Enter the group’s email address"
	case strings.Contains(local, "@"):
		return "Enter only the part of the email address before the @"
	case len(local) > MaxMailboxLength:
		return fmt.Sprintf("Email address must be %d characters or fewer before the @", MaxMailboxLength)
	case local[0] == '.' || local[len(local)-1] == '.' || local[0] == '-' || local[len(local)-1] == '-' || strings.Contains(local, ".."):
		return "Email address must start and end with a letter or number"
	case strings.ContainsFunc(local, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '.' }):
		return "Email address must be lower-case letters, numbers, hyphens and full stops"
	case slices.Contains(ReservedMailboxes, local) || slices.Contains(reserved, local):
		return "That email address is kept for the service itself: choose another"
	}
	return ""
}

// ChangeGroupAddress gives a group another address (the local part, at the groups'
// domain), as changed from version. Admins only. The group's former address is still
// received for MailboxGrace. An address another group has (as its ID, its address or
// its former address) is refused.
func (s *Network) ChangeGroupAddress(ctx context.Context, c Caller, id string, version int, local string) error {
	if !c.Admin {
		return ErrForbidden
	}
	if s.Addresses == nil {
		return Errorf(KindInvalid, "Groups have no email addresses here")
	}
	local = strings.ToLower(strings.TrimSpace(local))
	if msg := checkMailbox(local, s.ReservedMailboxes); msg != "" {
		return FieldErrors{{Field: "address", Message: msg}}.Err()
	}
	before, err := s.Store.Group(ctx, id)
	if err != nil {
		return fmt.Errorf("read group %s: %w", id, err)
	}
	if before.Version != version {
		return ErrGroupChanged
	}
	if local == before.MailLocal() {
		return nil
	}
	if local != id {
		// Another group's ID is that group's address (or was, until it changed it).
		switch _, err := s.Store.Group(ctx, local); {
		case err == nil:
			return FieldErrors{{Field: "address", Message: "That email address is another group’s: choose another"}}.Err()
		case KindOf(err) != KindNotFound:
			return fmt.Errorf("read group %s: %w", local, err)
		}
	}
	after := before
	after.Mailbox = local
	if local == id {
		after.Mailbox = ""
	}
	now := s.Now()
	saved := after
	saved.Version++
	audit := s.audit(c, "change group address", id, map[string]any{"address": before.MailLocal()}, map[string]any{"address": saved.MailLocal(), "formerUntil": now.Add(MailboxGrace).UTC().Format(time.DateOnly)})
	if err := s.Addresses.ChangeGroupMailbox(ctx, before, after, now, now.Add(MailboxGrace), audit); err != nil {
		if KindOf(err) == KindConflict && !errors.Is(err, ErrGroupChanged) {
			return FieldErrors{{Field: "address", Message: "That email address is another group’s: choose another"}}.Err()
		}
		return fmt.Errorf("change the address of group %s: %w", id, err)
	}
	s.ForgetGroups()
	return nil
}
