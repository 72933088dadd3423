package peergroups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// How long links last.
const (
	ConfirmLinkTTL     = 48 * time.Hour
	ManageLinkTTL      = 90 * 24 * time.Hour
	ManageLinkTTLAsked = 24 * time.Hour // a link asked for from the "email me a link" page
	UnsubscribeLinkTTL = 365 * 24 * time.Hour
	// A pending sign-up is kept for a week past its link's expiry, so that someone with
	// an expired link can still ask for a new one without typing everything again.
	SignupRetention = 7 * 24 * time.Hour
)

// MembershipStore is what Memberships keeps: people, their sign-ups and memberships.
type MembershipStore interface {
	Person(ctx context.Context, email string) (Person, error)
	// SaveSignup stores a pending sign-up, replacing any earlier one, and counts it
	// against the rate limits, with its outbox items, all or nothing. Over a limit it
	// returns a KindTooMany error.
	SaveSignup(ctx context.Context, p Person, s Signup, limits []RateLimit, out ...OutboxItem) error
	// ConfirmSignup turns a pending sign-up into memberships, with its outbox items, if
	// its nonce hash is still the stored one; otherwise it returns ErrLinkUsed.
	// It also lifts our suppression of the address (new consent), with an audit entry
	// when p.Suppressed says it was suppressed.
	ConfirmSignup(ctx context.Context, p Person, s Signup, at time.Time, out ...OutboxItem) error
	// SetGroups makes the person a confirmed member of join and leaves leave.
	SetGroups(ctx context.Context, p Person, join, leave []string, withdraw []string, at time.Time) error
	RequestCounter
}

// GroupReader reads the network's groups (Network does, from its cache): what the
// capabilities other than the network's own need of them.
type GroupReader interface {
	Groups(ctx context.Context) ([]Group, error)
	Group(ctx context.Context, id string) (Group, error)
}

// Memberships is how people join, confirm, manage their groups and leave.
type Memberships struct {
	Env
	Store    MembershipStore
	Network  GroupReader // the groups people can join
	Councils *Councils
	Limiter  Limiter
	// Pseudonym keys the hash an erased address is suppressed by (ErasedHash), which a
	// confirmed sign-up lifts: the keyring's PersonPseudonym.
	Pseudonym func(parts ...string) string
}

// Groups returns every group.
func (s *Memberships) Groups(ctx context.Context) ([]Group, error) { return s.Network.Groups(ctx) }

// Join records a pending sign-up and emails a confirmation link. It answers the same
// whether or not the address is already known.
func (s *Memberships) Join(ctx context.Context, f SignupForm, clientIP string) error {
	groups, err := s.Groups(ctx)
	if err != nil {
		return err
	}
	if err := f.Validate(s.Councils, groups).Err(); err != nil {
		return err
	}
	email := NormaliseEmail(f.Email)
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	signup := Signup{
		Email: email,
		Profile: Profile{
			Name:         f.Name,
			CouncilCode:  f.Council,
			Organisation: f.Organisation,
			JobTitle:     f.JobTitle,
			Facilitate:   f.Facilitate,
		},
		Groups: f.Groups,
		Form:   "join",
	}
	if signup.Profile.CouncilCode == NotACouncil {
		signup.Profile.CouncilCode = ""
	}
	if f.Interest {
		signup.Interest = f.Region(s.Councils)
	}
	return s.sendConfirmation(ctx, person, signup, groups, clientIP)
}

// sendConfirmation stores signup with a fresh nonce and, in the same transaction, the
// email with its link.
func (s *Memberships) sendConfirmation(ctx context.Context, person Person, signup Signup, groups []Group, clientIP string) error {
	nonce, err := s.Links.NewNonce()
	if err != nil {
		return err
	}
	now := s.Now()
	signup.NonceHash = links.HashNonce(nonce)
	signup.CreatedAt = now
	signup.ExpiresAt = now.Add(ConfirmLinkTTL)
	token, err := s.Links.Seal(links.Claims{Purpose: links.Confirm, Email: signup.Email, Nonce: nonce}, ConfirmLinkTTL)
	if err != nil {
		return err
	}
	data, err := s.emailData(signup.Email, signup.Profile.Name, groupsByID(groups, signup.Groups))
	if err != nil {
		return err
	}
	data.Link = s.link("/join/confirm", token)
	data.Interest = signup.Interest
	data.Hours = int(ConfirmLinkTTL / time.Hour)
	mail, err := s.mail(signup.Email, "Confirm that you want to join Peer Groups", "confirm", data)
	if err != nil {
		return err
	}
	// Asked for just now: it goes even to a suppressed address, since confirming it
	// is how someone whose address bounced or who complained joins again.
	mail.Message.Requested = true
	if err := s.Store.SaveSignup(ctx, person, signup, s.Limiter.requests(signup.Email, clientIP, s.Now()), mail); err != nil {
		return fmt.Errorf("save signup: %w", err)
	}
	return nil
}

// PendingSignup returns the sign-up a confirmation link is for, if it can still be
// confirmed. It changes nothing, so that mail scanners following links do no harm.
func (s *Memberships) PendingSignup(ctx context.Context, token string) (Signup, []Group, error) {
	_, person, err := s.openConfirm(ctx, token)
	if err != nil {
		return Signup{}, nil, err
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return Signup{}, nil, err
	}
	return *person.Signup, groupsByID(groups, person.Signup.Groups), nil
}

// Confirm turns the pending sign-up of a confirmation link into memberships, records
// the consent, and queues a welcome email in the same transaction. It returns the
// groups joined.
func (s *Memberships) Confirm(ctx context.Context, token string) (Signup, []Group, error) {
	_, person, err := s.openConfirm(ctx, token)
	if err != nil {
		return Signup{}, nil, err
	}
	signup := *person.Signup
	groups, err := s.Groups(ctx)
	if err != nil {
		return Signup{}, nil, err
	}
	joined := groupsByID(groups, signup.Groups)
	data, err := s.emailData(signup.Email, signup.Profile.Name, joined)
	if err != nil {
		return Signup{}, nil, err
	}
	data.Interest = signup.Interest
	unsubscribe, err := s.Links.Seal(links.Claims{Purpose: links.Unsubscribe, Email: signup.Email, Groups: signup.Groups}, UnsubscribeLinkTTL)
	if err != nil {
		return Signup{}, nil, err
	}
	welcome, err := s.mail(signup.Email, "You have joined Peer Groups", "welcome", data, ListUnsubscribe(s.link("/unsubscribe", unsubscribe))...)
	if err != nil {
		return Signup{}, nil, err
	}
	if s.Pseudonym != nil {
		signup.ErasedHash = ErasedHash(s.Pseudonym, signup.Email)
	}
	if err := s.Store.ConfirmSignup(ctx, person, signup, s.Now(), welcome); err != nil {
		return Signup{}, nil, fmt.Errorf("confirm signup: %w", err)
	}
	return signup, joined, nil
}

// ListUnsubscribe returns the RFC 8058 one-click unsubscribe headers for a link.
func ListUnsubscribe(link string) []Header {
	return []Header{
		{Name: "List-Unsubscribe", Value: "<" + link + ">"},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
	}
}

// ResendConfirmation sends a new confirmation link for the sign-up an old (perhaps
// expired) link was for. The old links stop working.
func (s *Memberships) ResendConfirmation(ctx context.Context, token, clientIP string) error {
	claims, err := s.Links.Open(token, links.Confirm)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		return ErrLinkInvalid
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return fmt.Errorf("resend: %w", err)
	}
	if person.Signup == nil {
		return Errorf(KindNotFound, "We no longer have the details you gave. Fill in the form again.")
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return err
	}
	return s.sendConfirmation(ctx, person, *person.Signup, groups, clientIP)
}

// openConfirm checks a confirmation link against what is stored.
func (s *Memberships) openConfirm(ctx context.Context, token string) (links.Claims, Person, error) {
	claims, err := s.Links.Open(token, links.Confirm)
	switch {
	case errors.Is(err, links.ErrExpired):
		return claims, Person{}, ErrLinkExpired
	case err != nil:
		return claims, Person{}, ErrLinkInvalid
	}
	person, err := s.Store.Person(ctx, claims.Email)
	if err != nil {
		return claims, Person{}, fmt.Errorf("open confirmation link: %w", err)
	}
	switch {
	case person.Signup == nil:
		return claims, person, ErrLinkUsed
	case person.Signup.NonceHash != links.HashNonce(claims.Nonce):
		return claims, person, ErrLinkReplaced
	case person.Signup.Expired(s.Now()):
		return claims, person, ErrLinkExpired
	}
	return claims, person, nil
}

func groupsByID(groups []Group, ids []string) []Group {
	var out []Group
	for _, g := range groups {
		if slices.Contains(ids, g.ID) {
			out = append(out, g)
		}
	}
	return out
}
