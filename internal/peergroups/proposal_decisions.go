package peergroups

import (
	"context"
	"fmt"
)

// ListProposal approves an open proposal for the public list, so that others can see
// it and say they are interested. Admins only.
func (s *Proposals) ListProposal(ctx context.Context, c Caller, id string) error {
	if !c.Admin {
		return ErrForbidden
	}
	before, err := s.Proposal(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case before.Status != ProposalOpen:
		return Errorf(KindConflict, "Only an open proposal can be listed: this one has been decided.")
	case before.Listed():
		return Errorf(KindConflict, "This proposal is already listed.")
	}
	after := before
	after.ListedAt = s.Now()
	if err := s.Store.ListProposal(ctx, after, s.audit(c, "list proposal", id, before, after)); err != nil {
		return fmt.Errorf("list proposal %s: %w", id, err)
	}
	return nil
}

// ApproveProposal turns an open proposal into a group and makes the proposer its
// facilitator (with an invitation to sign in). In the same transaction it puts an
// item in the outbox that invites everyone interested to join, each once, after the
// request has returned. Admins only. It returns how many people are to be invited.
func (s *Proposals) ApproveProposal(ctx context.Context, c Caller, id string, g Group) (int, error) {
	if !c.Admin {
		return 0, ErrForbidden
	}
	if err := ValidateGroup(g, s.Councils, true).Err(); err != nil {
		return 0, err
	}
	before, err := s.Proposal(ctx, id)
	if err != nil {
		return 0, err
	}
	if before.Status != ProposalOpen {
		return 0, Errorf(KindConflict, "This proposal has already been decided.")
	}
	after := before
	after.Status, after.GroupID = ProposalApproved, g.ID
	invite := OutboxItem{ID: newOutboxID(), At: s.Now(), Invite: id}
	if err := s.Store.DecideProposal(ctx, after, &g, s.audit(c, "approve proposal", id, before, after), invite); err != nil {
		return 0, fmt.Errorf("approve proposal: %w", err)
	}
	s.Network.ForgetGroups()
	if before.ProposerEmail == "" {
		// The proposer erased their data: an admin appoints the facilitators.
		return s.toInvite(ctx, after)
	}
	if err := s.Inviter.InviteFacilitator(ctx, before.ProposerEmail, g); err != nil {
		return 0, err
	}
	return s.toInvite(ctx, after)
}

// toInvite counts the people interested in a proposal who have not been invited yet.
func (s *Proposals) toInvite(ctx context.Context, p Proposal) (int, error) {
	people, err := s.Store.InterestedIn(ctx, p.ID)
	if err != nil {
		return 0, fmt.Errorf("list interested: %w", err)
	}
	n := 0
	for _, in := range people {
		if in.Email != p.ProposerEmail && in.InvitedAt.IsZero() {
			n++
		}
	}
	return n, nil
}

// InviteInterested puts an item in the outbox that invites everyone interested in an
// approved proposal who has not been invited yet (after a failure, say): running it
// again invites nobody twice. Admins only. It returns how many people are to be invited.
func (s *Proposals) InviteInterested(ctx context.Context, c Caller, id string) (int, error) {
	if !c.Admin {
		return 0, ErrForbidden
	}
	p, err := s.Proposal(ctx, id)
	if err != nil {
		return 0, err
	}
	if p.Status != ProposalApproved {
		return 0, Errorf(KindConflict, "Only an approved proposal has a group to join.")
	}
	n, err := s.toInvite(ctx, p)
	if err != nil || n == 0 {
		return n, err
	}
	if err := s.Store.Enqueue(ctx, OutboxItem{ID: newOutboxID(), At: s.Now(), Invite: id}); err != nil {
		return 0, fmt.Errorf("queue invitations: %w", err)
	}
	return n, nil
}

// DeclineProposal closes a proposal with a reason and tells the proposer. Admins only.
func (s *Proposals) DeclineProposal(ctx context.Context, c Caller, id, reason string) error {
	if !c.Admin {
		return ErrForbidden
	}
	if err := ValidateReason(reason).Err(); err != nil {
		return err
	}
	before, err := s.Proposal(ctx, id)
	if err != nil {
		return err
	}
	if before.Status != ProposalOpen {
		return Errorf(KindConflict, "This proposal has already been decided.")
	}
	after := before
	after.Status, after.Reason = ProposalDeclined, reason
	if before.ProposerEmail == "" {
		// The proposer erased their data: nobody to tell.
		if err := s.Store.DecideProposal(ctx, after, nil, s.audit(c, "decline proposal", id, before, after)); err != nil {
			return fmt.Errorf("decline proposal: %w", err)
		}
		return nil
	}
	data, err := s.emailData(before.ProposerEmail, before.ProposerName, nil)
	if err != nil {
		return err
	}
	data.Proposal, data.Reason = &after, reason
	mail, err := s.mail(before.ProposerEmail, "Your proposal for a peer group", "declined", data)
	if err != nil {
		return err
	}
	if err := s.Store.DecideProposal(ctx, after, nil, s.audit(c, "decline proposal", id, before, after), mail); err != nil {
		return fmt.Errorf("decline proposal: %w", err)
	}
	return nil
}
