package peergroups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// Proposal states.
const (
	ProposalOpen     = "open"
	ProposalApproved = "approved"
	ProposalDeclined = "declined"
)

// InvitationTTL is how long an invitation to join a new group lasts.
const InvitationTTL = 30 * 24 * time.Hour

// Proposal is a proposal for a new peer group.
type Proposal struct {
	ID             string
	Area           string
	ProposerName   string
	ProposerEmail  string
	Why            string
	CoFacilitators string
	Status         string
	CreatedAt      time.Time
	Interested     int
	GroupID        string    // the group it became, once approved
	Reason         string    // why it was declined
	ListedAt       time.Time // when an admin approved it for the public list; zero until then
}

// Listed says whether the proposal may be shown publicly: only once an admin has
// approved it for listing.
func (p Proposal) Listed() bool { return !p.ListedAt.IsZero() }

// Interested is a person who said they were interested in a proposed group.
type Interested struct {
	Email     string
	Name      string
	At        time.Time
	InvitedAt time.Time
}

// PendingProposal and PendingInterest wait for their emails to be confirmed.
type (
	PendingProposal struct {
		Proposal
		NonceHash string
		ExpiresAt time.Time
	}
	PendingInterest struct {
		ProposalID string
		Email      string
		Name       string
		NonceHash  string
		ExpiresAt  time.Time
	}
)

// ProposalStore is what Proposals keeps: proposals, and who is interested in them.
type ProposalStore interface {
	SavePendingProposal(ctx context.Context, p PendingProposal, limits []RateLimit, out ...OutboxItem) error
	PendingProposal(ctx context.Context, email, id string) (PendingProposal, error)
	ConfirmProposal(ctx context.Context, p PendingProposal, at time.Time) error
	Proposals(ctx context.Context) ([]Proposal, error)
	ProposalReader
	SavePendingInterest(ctx context.Context, p PendingInterest, limits []RateLimit, out ...OutboxItem) error
	PendingInterest(ctx context.Context, email, id string) (PendingInterest, error)
	// ConfirmInterest records the interest and counts it, once per address; a second
	// confirmation for the same address returns a KindConflict error.
	ConfirmInterest(ctx context.Context, p PendingInterest, at time.Time) error
	InterestedIn(ctx context.Context, id string) ([]Interested, error)
	// DecideProposal closes an open proposal; approving it creates its group and makes
	// the proposer its facilitator, all in one transaction with the audit entry and the
	// outbox items.
	DecideProposal(ctx context.Context, p Proposal, group *Group, a AuditEntry, out ...OutboxItem) error
	// ListProposal records that an admin approved an open proposal for the public
	// list, with the audit entry, once: a KindConflict error if it is no longer open
	// or already listed.
	ListProposal(ctx context.Context, p Proposal, a AuditEntry) error
	Outbox
}

// ProposalReader reads one proposal.
type ProposalReader interface {
	Proposal(ctx context.Context, id string) (Proposal, error)
}

// GroupForgetter drops an instance's cached groups after a group is made (Network does).
type GroupForgetter interface {
	ForgetGroups()
}

// Proposals is how people propose a new peer group and say they are interested in one,
// and how admins list, approve or decline the proposals. (Invitations invites the
// people interested in an approved one.)
type Proposals struct {
	Env
	Store    ProposalStore
	Councils *Councils // the regions a new group may cover
	Limiter  Limiter
	Network  GroupForgetter
	Inviter  FacilitatorInviter
}

// ProposalForm is the "propose a peer group" form's answers.
type ProposalForm struct {
	Area           string
	Name           string
	Email          string
	Why            string
	CoFacilitators string
}

// Validate checks the proposal form, in the order of its fields.
func (f ProposalForm) Validate() FieldErrors {
	var errs FieldErrors
	errs.short("area", f.Area, "Area", 100, "Enter the area the group would cover", "Enter the area without a web address")
	errs.short("name", f.Name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	errs.email("email", f.Email)
	errs.paragraph("why", f.Why, "Why", 2000, "Say why the area needs a peer group")
	errs.paragraph("cofacilitators", f.CoFacilitators, "Co-facilitators", 1000, "")
	return errs
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RequestProposal records a proposal and emails the proposer a link to confirm it.
func (s *Proposals) RequestProposal(ctx context.Context, f ProposalForm, clientIP string) error {
	if err := f.Validate().Err(); err != nil {
		return err
	}
	email := NormaliseEmail(f.Email)
	nonce, err := s.Links.NewNonce()
	if err != nil {
		return err
	}
	p := PendingProposal{
		Proposal:  Proposal{ID: newID(), Area: f.Area, ProposerName: f.Name, ProposerEmail: email, Why: f.Why, CoFacilitators: f.CoFacilitators, Status: ProposalOpen},
		NonceHash: links.HashNonce(nonce), ExpiresAt: s.Now().Add(ConfirmLinkTTL),
	}
	token, err := s.Links.Seal(links.Claims{Purpose: links.Propose, Email: email, Nonce: nonce, Subject: p.ID}, ConfirmLinkTTL)
	if err != nil {
		return err
	}
	mail, err := s.linkMail(email, f.Name, "Confirm your proposal for a peer group", "propose", "/proposals/confirm", token, &p.Proposal)
	if err != nil {
		return err
	}
	if err := s.Store.SavePendingProposal(ctx, p, s.Limiter.requests(email, clientIP, s.Now()), mail); err != nil {
		return fmt.Errorf("save proposal: %w", err)
	}
	return nil
}

// linkMail makes the email of a once-only confirmation link with a template.
func (s *Proposals) linkMail(email, name, subject, template, path, token string, p *Proposal) (OutboxItem, error) {
	data, err := s.emailData(email, name, nil)
	if err != nil {
		return OutboxItem{}, err
	}
	data.Link = s.link(path, token)
	data.Hours = int(ConfirmLinkTTL / time.Hour)
	data.Proposal = p
	return s.mail(email, subject, template, data)
}

// openOnce opens a once-only link and checks it against its pending record's nonce.
func (s *Proposals) openOnce(token string, purpose links.Purpose) (links.Claims, error) {
	claims, err := s.Links.Open(token, purpose)
	switch {
	case errors.Is(err, links.ErrExpired):
		return claims, ErrLinkExpired
	case err != nil:
		return claims, ErrLinkInvalid
	}
	return claims, nil
}

func (s *Proposals) checkPending(err error, storedHash, nonce string, expires time.Time) error {
	switch {
	case KindOf(err) == KindNotFound:
		return ErrLinkUsed
	case err != nil:
		return err
	case storedHash != links.HashNonce(nonce):
		return ErrLinkReplaced
	case !s.Now().Before(expires):
		return ErrLinkExpired
	}
	return nil
}

// PendingProposalFor checks a proposal's confirmation link, changing nothing.
func (s *Proposals) PendingProposalFor(ctx context.Context, token string) (PendingProposal, error) {
	claims, err := s.openOnce(token, links.Propose)
	if err != nil {
		return PendingProposal{}, err
	}
	p, err := s.Store.PendingProposal(ctx, claims.Email, claims.Subject)
	return p, s.checkPending(err, p.NonceHash, claims.Nonce, p.ExpiresAt)
}

// ConfirmProposal publishes a proposal, once. The proposer counts as interested.
func (s *Proposals) ConfirmProposal(ctx context.Context, token string) (Proposal, error) {
	p, err := s.PendingProposalFor(ctx, token)
	if err != nil {
		return Proposal{}, err
	}
	p.CreatedAt = s.Now()
	if err := s.Store.ConfirmProposal(ctx, p, s.Now()); err != nil {
		return Proposal{}, fmt.Errorf("confirm proposal: %w", err)
	}
	return p.Proposal, nil
}

// OpenProposals returns the proposals still open, listed or not, newest first.
func (s *Proposals) OpenProposals(ctx context.Context) ([]Proposal, error) {
	return s.openProposals(ctx, false)
}

// ListedProposals returns the open proposals an admin has approved for the public
// list, newest first: the only ones shown publicly.
func (s *Proposals) ListedProposals(ctx context.Context) ([]Proposal, error) {
	return s.openProposals(ctx, true)
}

func (s *Proposals) openProposals(ctx context.Context, listedOnly bool) ([]Proposal, error) {
	all, err := s.Store.Proposals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	var open []Proposal
	for _, p := range all {
		if p.Status == ProposalOpen && (p.Listed() || !listedOnly) {
			open = append(open, p)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].CreatedAt.After(open[j].CreatedAt) })
	return open, nil
}

// AllProposals returns every proposal, newest first. Admins only.
func (s *Proposals) AllProposals(ctx context.Context, c Caller) ([]Proposal, error) {
	if !c.Admin {
		return nil, ErrForbidden
	}
	all, err := s.Store.Proposals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	return all, nil
}

// Proposal returns one proposal, listed or not (for admins and for links already sent).
func (s *Proposals) Proposal(ctx context.Context, id string) (Proposal, error) {
	return readProposal(ctx, s.Store, id)
}

// readProposal reads one proposal, saying so in words when there is none.
func readProposal(ctx context.Context, st ProposalReader, id string) (Proposal, error) {
	p, err := st.Proposal(ctx, id)
	if KindOf(err) == KindNotFound {
		return p, Errorf(KindNotFound, "There is no such proposal.")
	}
	return p, err
}

// PublicProposal returns a proposal that may be shown publicly: one an admin has
// listed. Any other is "not found", as if it did not exist.
func (s *Proposals) PublicProposal(ctx context.Context, id string) (Proposal, error) {
	p, err := s.Proposal(ctx, id)
	if err == nil && !p.Listed() {
		return Proposal{}, Errorf(KindNotFound, "There is no such proposal.")
	}
	return p, err
}
