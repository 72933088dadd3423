package peergroups

import (
	"context"
	"fmt"
)

// Facilitators lists the addresses of a group's facilitators.
func (s *Network) Facilitators(ctx context.Context, c Caller, group string) ([]string, error) {
	if !c.CanFacilitate(group) {
		return nil, ErrForbidden
	}
	return s.Store.RoleHolders(ctx, RoleFacilitator, group)
}

// AppointFacilitator makes an address a facilitator of a group and emails them an
// invitation with a sign-in link. Admins only.
func (s *Network) AppointFacilitator(ctx context.Context, c Caller, group, email string) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := ValidateEmail(email).Err(); err != nil {
		return err
	}
	g, err := s.Group(ctx, group)
	if err != nil {
		return err
	}
	email = NormaliseEmail(email)
	if err := s.Store.SetRole(ctx, email, RoleFacilitator, group, true, s.audit(c, "appoint facilitator", group+" "+email, nil, map[string]string{"group": group, "email": email})); err != nil {
		return fmt.Errorf("appoint facilitator: %w", err)
	}
	return s.Inviter.InviteFacilitator(ctx, email, g)
}

// RemoveFacilitator takes an address off a group's facilitators. Admins only.
func (s *Network) RemoveFacilitator(ctx context.Context, c Caller, group, email string) error {
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
func (s *Network) AdminList(ctx context.Context, c Caller) (appointed, configured []string, err error) {
	if !c.Admin {
		return nil, nil, ErrForbidden
	}
	appointed, err = s.Store.RoleHolders(ctx, RoleAdmin, "")
	return appointed, s.Admins, err
}

// SetAdmin appoints or removes an admin. Admins only; nobody removes themselves, so
// the network is never left without an admin by accident.
func (s *Network) SetAdmin(ctx context.Context, c Caller, email string, grant bool) error {
	if !c.Admin {
		return ErrForbidden
	}
	email = NormaliseEmail(email)
	if grant {
		if err := ValidateEmail(email).Err(); err != nil {
			return err
		}
	}
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
func (s *Network) AuditTrail(ctx context.Context, c Caller, before string) ([]AuditEntry, string, error) {
	if !c.Admin {
		return nil, "", ErrForbidden
	}
	entries, next, err := s.Store.Audit(ctx, 50, before)
	if err != nil || s.Pseudonym == nil {
		return entries, next, err
	}
	// The entries name people by pseudonym: the admins and facilitators are shown by
	// address again (the admins work with them), everyone else stays a pseudonym.
	known := append([]string{}, s.Admins...)
	admins, err := s.Store.RoleHolders(ctx, RoleAdmin, "")
	if err != nil {
		return nil, "", err
	}
	known = append(known, admins...)
	groups, err := s.Groups(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, g := range groups {
		facilitators, err := s.Store.RoleHolders(ctx, RoleFacilitator, g.ID)
		if err != nil {
			return nil, "", err
		}
		known = append(known, facilitators...)
	}
	return NamedEntries(entries, known, s.Pseudonym), next, nil
}
