package peergroups

import (
	"context"
	"fmt"

	"github.com/peergroups/peergroups/internal/links"
)

// ValidateInterest checks the "I'm interested" form: a name and an email address.
func ValidateInterest(name, email string) FieldErrors {
	var errs FieldErrors
	errs.short("name", name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	errs.email("email", email)
	return errs
}

// RequestInterest records that someone is interested in a proposal and emails them a
// link to confirm it.
func (s *Proposals) RequestInterest(ctx context.Context, id, name, email, clientIP string) error {
	if err := ValidateInterest(name, email).Err(); err != nil {
		return err
	}
	p, err := s.PublicProposal(ctx, id)
	if err != nil {
		return err
	}
	if p.Status != ProposalOpen {
		return Errorf(KindGone, "This proposal is closed.")
	}
	email = NormaliseEmail(email)
	nonce, err := s.Links.NewNonce()
	if err != nil {
		return err
	}
	pi := PendingInterest{ProposalID: id, Email: email, Name: name, NonceHash: links.HashNonce(nonce), ExpiresAt: s.Now().Add(ConfirmLinkTTL)}
	token, err := s.Links.Seal(links.Claims{Purpose: links.Interest, Email: email, Nonce: nonce, Subject: id}, ConfirmLinkTTL)
	if err != nil {
		return err
	}
	mail, err := s.linkMail(email, name, "Confirm your interest in a new peer group", "interest", "/proposals/interest/confirm", token, &p)
	if err != nil {
		return err
	}
	if err := s.Store.SavePendingInterest(ctx, pi, s.Limiter.requests(email, clientIP, s.Now()), mail); err != nil {
		return fmt.Errorf("save interest: %w", err)
	}
	return nil
}

// PendingInterestFor checks an interest confirmation link, changing nothing.
func (s *Proposals) PendingInterestFor(ctx context.Context, token string) (PendingInterest, Proposal, error) {
	claims, err := s.openOnce(token, links.Interest)
	if err != nil {
		return PendingInterest{}, Proposal{}, err
	}
	pi, err := s.Store.PendingInterest(ctx, claims.Email, claims.Subject)
	if err := s.checkPending(err, pi.NonceHash, claims.Nonce, pi.ExpiresAt); err != nil {
		return pi, Proposal{}, err
	}
	p, err := s.Proposal(ctx, pi.ProposalID)
	return pi, p, err
}

// ConfirmInterest counts a person as interested, once.
func (s *Proposals) ConfirmInterest(ctx context.Context, token string) (Proposal, error) {
	pi, p, err := s.PendingInterestFor(ctx, token)
	if err != nil {
		return p, err
	}
	if err := s.Store.ConfirmInterest(ctx, pi, s.Now()); err != nil && KindOf(err) != KindConflict {
		return p, fmt.Errorf("confirm interest: %w", err)
	}
	return p, nil
}
