package peergroups

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// InvitationStore is what Invitations keeps: who was invited to an approved
// proposal's group, and their membership once they accept.
type InvitationStore interface {
	ProposalReader
	InterestedIn(ctx context.Context, id string) ([]Interested, error)
	// MarkInvited records that an interested person was invited, with the outbox items
	// of their invitation; false (and nothing stored) if they already were.
	MarkInvited(ctx context.Context, id, email string, at time.Time, out ...OutboxItem) (bool, error)
	Person(ctx context.Context, email string) (Person, error)
	// AcceptInvitation makes a person a confirmed member of a group they were invited to.
	AcceptInvitation(ctx context.Context, p Person, profile Profile, group string, at time.Time) error
}

// Invitations invites the people interested in an approved proposal to its new group,
// each once, and lets them accept.
type Invitations struct {
	Env
	Store   InvitationStore
	Network GroupReader
	// Kits gives the new group its version of the latest round's core kit (nil: none).
	Kits GroupKitStarter
}

// GroupKitStarter starts a new group's kit (NewGroupKits does).
type GroupKitStarter interface {
	StartGroupKit(ctx context.Context, group string) (int, error)
}

// RunInvitations does an outbox item's Invite: it gives the group of an approved
// proposal its version of the latest core kit (when Kits is set), and puts an
// invitation to join the group in the outbox for everyone interested who has not been
// invited yet, and returns how many it queued. The outbox function runs it.
func (s *Invitations) RunInvitations(ctx context.Context, id string) (int, error) {
	p, err := readProposal(ctx, s.Store, id)
	if err != nil {
		return 0, err
	}
	if p.Status != ProposalApproved {
		return 0, nil // nothing to invite anyone to
	}
	g, err := s.Network.Group(ctx, p.GroupID)
	if err != nil {
		return 0, err
	}
	if s.Kits != nil {
		// Before the invitations, so that those who accept find the kit there; a
		// failure is tried again with the whole item, which invites nobody twice.
		if _, err := s.Kits.StartGroupKit(ctx, g.ID); err != nil {
			return 0, err
		}
	}
	people, err := s.Store.InterestedIn(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("list interested: %w", err)
	}
	queued := 0
	for _, in := range people {
		if in.Email == p.ProposerEmail || !in.InvitedAt.IsZero() {
			continue
		}
		token, err := s.Links.Seal(links.Claims{Purpose: links.Invite, Email: in.Email, Subject: g.ID, Name: in.Name}, InvitationTTL)
		if err != nil {
			return queued, err
		}
		data, err := s.emailData(in.Email, in.Name, []Group{g})
		if err != nil {
			return queued, err
		}
		data.Link = s.link("/join/invitation", token)
		data.Days = int(InvitationTTL / (24 * time.Hour))
		data.Proposal = &p
		item, err := s.mail(in.Email, "A new peer group has started: "+g.Name, "invitation", data)
		if err != nil {
			return queued, err
		}
		// Marking the person invited and queueing their email are one transaction: each
		// person is invited once, however often this runs.
		first, err := s.Store.MarkInvited(ctx, id, in.Email, s.Now(), item)
		if err != nil {
			return queued, fmt.Errorf("mark invited: %w", err)
		}
		if first {
			queued++
		}
	}
	return queued, nil
}

// Invitation returns the group an invitation link is for, changing nothing.
func (s *Invitations) Invitation(ctx context.Context, token string) (Group, links.Claims, error) {
	claims, err := s.Links.Open(token, links.Invite)
	switch {
	case errors.Is(err, links.ErrExpired):
		return Group{}, claims, ErrLinkExpired
	case err != nil:
		return Group{}, claims, ErrLinkInvalid
	}
	g, err := s.Network.Group(ctx, claims.Subject)
	return g, claims, err
}

// AcceptInvitation makes the invited person a member of the new group. It is
// idempotent: accepting twice changes nothing more.
func (s *Invitations) AcceptInvitation(ctx context.Context, token string) (Group, error) {
	g, claims, err := s.Invitation(ctx, token)
	if err != nil {
		return g, err
	}
	if g.Paused {
		return g, Errorf(KindGone, "This group is not taking new members just now.")
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return g, fmt.Errorf("accept invitation: %w", err)
	}
	if person.IsMember(g.ID) {
		return g, nil
	}
	profile := person.Profile
	if !person.Known {
		profile = Profile{Name: claims.Name}
	}
	profile.ConsentAt, profile.ConsentForm = s.Now(), "invitation"
	if err := s.Store.AcceptInvitation(ctx, person, profile, g.ID, s.Now()); err != nil {
		return g, fmt.Errorf("accept invitation: %w", err)
	}
	return g, nil
}
