package peergroups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// MembershipView is what "Manage your membership" shows.
type MembershipView struct {
	Person  Person
	Groups  []Group // every active group, for changing
	Member  []Group // groups the person is a confirmed member of
	Pending []Group // groups waiting for confirmation
	// Paused are the paused groups the person is a member of: not offered for changing,
	// and kept when the person saves their groups.
	Paused []Group
}

// Manage returns the membership a manage link is for.
func (s *Memberships) Manage(ctx context.Context, token string) (MembershipView, error) {
	claims, err := s.openManage(token)
	if err != nil {
		return MembershipView{}, err
	}
	return s.membership(ctx, claims.Email)
}

// openManage opens a manage link's token.
func (s *Memberships) openManage(token string) (links.Claims, error) {
	claims, err := s.Links.Open(token, links.Manage)
	switch {
	case errors.Is(err, links.ErrExpired):
		return claims, ErrLinkExpired
	case err != nil:
		return claims, ErrLinkInvalid
	}
	return claims, nil
}

func (s *Memberships) membership(ctx context.Context, email string) (MembershipView, error) {
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return MembershipView{}, fmt.Errorf("manage: %w", err)
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return MembershipView{}, err
	}
	v := MembershipView{Person: person}
	for _, g := range groups {
		if !g.Paused {
			v.Groups = append(v.Groups, g)
		}
		if person.IsMember(g.ID) {
			v.Member = append(v.Member, g)
			if g.Paused {
				v.Paused = append(v.Paused, g)
			}
		} else if person.Signup != nil && !person.Signup.Expired(s.Now()) && slices.Contains(person.Signup.Groups, g.ID) {
			v.Pending = append(v.Pending, g)
		}
	}
	return v, nil
}

// ChangeGroups makes the person of a manage link a member of exactly the groups in
// want among the groups the page offered them (offered, the checkboxes it showed; the
// active groups when the form did not say). Memberships of groups the page did not
// offer, such as paused ones, are kept: saving changes only what the person saw. With
// nothing wanted it also withdraws every registered interest.
func (s *Memberships) ChangeGroups(ctx context.Context, token string, want, offered []string) (MembershipView, error) {
	claims, err := s.openManage(token)
	if err != nil {
		return MembershipView{}, err
	}
	view, err := s.membership(ctx, claims.Email)
	if err != nil {
		return view, err
	}
	if !view.Person.Known {
		return view, Errorf(KindInvalid, "Confirm your email address first, using the link in the email we sent you.")
	}
	if offered == nil {
		for _, g := range view.Groups {
			offered = append(offered, g.ID)
		}
	}
	var join, leave, withdraw []string
	for _, id := range want {
		if view.Person.IsMember(id) {
			continue
		}
		g, ok := FindGroup(view.Groups, id)
		if !ok {
			return view, Errorf(KindInvalid, "Select peer groups from the list")
		}
		if !slices.Contains(join, g.ID) {
			join = append(join, g.ID)
		}
	}
	for _, id := range view.Person.ConfirmedGroups() {
		if !slices.Contains(want, id) && slices.Contains(offered, id) {
			leave = append(leave, id)
		}
	}
	if len(want) == 0 {
		for _, in := range view.Person.Interests {
			withdraw = append(withdraw, in.Region)
		}
	}
	if err := s.Store.SetGroups(ctx, view.Person, join, leave, withdraw, s.Now()); err != nil {
		return view, fmt.Errorf("change groups: %w", err)
	}
	return s.membership(ctx, claims.Email)
}

// LeaveAll takes the person of a manage link out of every group, paused ones too, and
// withdraws every registered interest.
func (s *Memberships) LeaveAll(ctx context.Context, token string) (MembershipView, error) {
	claims, err := s.openManage(token)
	if err != nil {
		return MembershipView{}, err
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return MembershipView{}, fmt.Errorf("leave all: %w", err)
	}
	var withdraw []string
	for _, in := range person.Interests {
		withdraw = append(withdraw, in.Region)
	}
	if err := s.Store.SetGroups(ctx, person, nil, person.ConfirmedGroups(), withdraw, s.Now()); err != nil {
		return MembershipView{}, fmt.Errorf("leave all: %w", err)
	}
	return s.membership(ctx, claims.Email)
}

// LeaveGroup takes the person of a manage link out of one group.
func (s *Memberships) LeaveGroup(ctx context.Context, token, groupID string) (MembershipView, error) {
	claims, err := s.openManage(token)
	if err != nil {
		return MembershipView{}, err
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return MembershipView{}, fmt.Errorf("leave group: %w", err)
	}
	if person.IsMember(groupID) {
		if err := s.Store.SetGroups(ctx, person, nil, []string{groupID}, nil, s.Now()); err != nil {
			return MembershipView{}, fmt.Errorf("leave group %s: %w", groupID, err)
		}
	}
	return s.membership(ctx, claims.Email)
}

// Unsubscribe takes the person of an unsubscribe link out of the groups it names (all
// their groups when it names none). It is idempotent, and honours expired links:
// leaving a list must always work.
func (s *Memberships) Unsubscribe(ctx context.Context, token string) ([]Group, error) {
	claims, err := s.Links.Open(token, links.Unsubscribe)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		return nil, ErrLinkInvalid
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	var leave, withdraw []string
	for _, id := range person.ConfirmedGroups() {
		if len(claims.Groups) == 0 || slices.Contains(claims.Groups, id) {
			leave = append(leave, id)
		}
	}
	if len(claims.Groups) == 0 {
		for _, in := range person.Interests {
			withdraw = append(withdraw, in.Region)
		}
	}
	if len(leave)+len(withdraw) > 0 {
		if err := s.Store.SetGroups(ctx, person, nil, leave, withdraw, s.Now()); err != nil {
			return nil, fmt.Errorf("unsubscribe: %w", err)
		}
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return nil, err
	}
	if len(claims.Groups) == 0 {
		return groupsByID(groups, person.ConfirmedGroups()), nil
	}
	return groupsByID(groups, claims.Groups), nil
}

// UnsubscribeGroups returns the groups an unsubscribe link names, without changing anything.
func (s *Memberships) UnsubscribeGroups(ctx context.Context, token string) ([]Group, error) {
	claims, err := s.Links.Open(token, links.Unsubscribe)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		return nil, ErrLinkInvalid
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return nil, err
	}
	return groupsByID(groups, claims.Groups), nil
}

// SendManageLink emails a fresh manage link to an address that has a membership or a
// pending sign-up. It answers the same whether or not the address is known, and takes
// as long: one read, then one write that counts the request (and, for a known
// address, queues the email in the same transaction).
func (s *Memberships) SendManageLink(ctx context.Context, email, clientIP string) error {
	if err := ValidateEmail(email).Err(); err != nil {
		return err
	}
	email = NormaliseEmail(email)
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("manage link: %w", err)
	}
	var out []OutboxItem
	if person.Known || person.Signup != nil {
		token, err := s.Links.Seal(links.Claims{Purpose: links.Manage, Email: email}, ManageLinkTTLAsked)
		if err != nil {
			return err
		}
		data, err := s.emailData(email, person.Profile.Name, nil)
		if err != nil {
			return err
		}
		data.Link = s.link("/manage", token)
		data.ManageLink = data.Link
		data.Hours = int(ManageLinkTTLAsked / time.Hour)
		mail, err := s.mail(email, "Manage your Peer Groups membership", "manage", data)
		if err != nil {
			return err
		}
		out = append(out, mail)
	}
	if err := s.Store.CountRequest(ctx, s.Limiter.requests(email, clientIP, s.Now()), out...); err != nil {
		return fmt.Errorf("manage link: %w", err)
	}
	return nil
}
