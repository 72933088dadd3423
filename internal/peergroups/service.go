package peergroups

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
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
	groupsCacheTTL  = time.Minute
)

// Store keeps people, groups and memberships.
type Store interface {
	Groups(ctx context.Context) ([]Group, error)
	Person(ctx context.Context, email string) (Person, error)
	// SaveSignup stores a pending sign-up, replacing any earlier one, and counts it
	// against the rate limits, with its outbox items, all or nothing. Over a limit it
	// returns a KindTooMany error.
	SaveSignup(ctx context.Context, p Person, s Signup, limits []RateLimit, out ...OutboxItem) error
	// ConfirmSignup turns a pending sign-up into memberships, with its outbox items, if
	// its nonce hash is still the stored one; otherwise it returns ErrLinkUsed.
	ConfirmSignup(ctx context.Context, p Person, s Signup, at time.Time, out ...OutboxItem) error
	// SetGroups makes the person a confirmed member of join and leaves leave.
	SetGroups(ctx context.Context, p Person, join, leave []string, withdraw []string, at time.Time) error
	// CountRequest counts one request against the limits, with its outbox items; over
	// a limit it returns KindTooMany and stores nothing.
	CountRequest(ctx context.Context, limits []RateLimit, out ...OutboxItem) error
	Outbox
	AccessStore
	AdminStore
	RegisterStore
	ProposalStore
	RoundStore
	AttendanceStore
}

// Mailer sends one email. The service itself never calls one: its emails go through
// the outbox (see OutboxItem); the outbox function and the reminders do.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// RateLimit is a counter that may reach Limit before Until. Key is pseudonymous.
type RateLimit struct {
	Key   string
	Limit int
	Until time.Time
}

// Limits says how many requests an address and a client may make an hour.
type Limits struct {
	PerEmail int
	PerIP    int
}

// Service is what people can do: join, confirm, manage and leave.
type Service struct {
	Store    Store
	Links    *links.Sealer
	Councils *Councils
	BaseURL  string // where links in emails point, without a trailing slash
	Limits   Limits
	Now      func() time.Time
	// Pseudonym turns an address or IP into a key that does not reveal it.
	Pseudonym func(parts ...string) string
	// Admins are the addresses that are admins by configuration (ADMIN_EMAILS).
	Admins []string

	mu       sync.Mutex
	groups   []Group
	groupsAt time.Time
}

// Groups returns every group, cached for a minute per instance.
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if s.groups != nil && now.Sub(s.groupsAt) < groupsCacheTTL {
		return s.groups, nil
	}
	groups, err := s.Store.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	s.groups, s.groupsAt = groups, now
	return groups, nil
}

// Join records a pending sign-up and emails a confirmation link. It answers the same
// whether or not the address is already known.
func (s *Service) Join(ctx context.Context, f SignupForm, clientIP string) error {
	email := NormaliseEmail(f.Email)
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		return err
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
func (s *Service) sendConfirmation(ctx context.Context, person Person, signup Signup, groups []Group, clientIP string) error {
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
	if err := s.Store.SaveSignup(ctx, person, signup, s.limits(signup.Email, clientIP), mail); err != nil {
		return fmt.Errorf("save signup: %w", err)
	}
	return nil
}

// PendingSignup returns the sign-up a confirmation link is for, if it can still be
// confirmed. It changes nothing, so that mail scanners following links do no harm.
func (s *Service) PendingSignup(ctx context.Context, token string) (Signup, []Group, error) {
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
func (s *Service) Confirm(ctx context.Context, token string) (Signup, []Group, error) {
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
func (s *Service) ResendConfirmation(ctx context.Context, token, clientIP string) error {
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
func (s *Service) openConfirm(ctx context.Context, token string) (links.Claims, Person, error) {
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
func (s *Service) Manage(ctx context.Context, token string) (MembershipView, error) {
	claims, err := s.openManage(token)
	if err != nil {
		return MembershipView{}, err
	}
	return s.membership(ctx, claims.Email)
}

// openManage opens a manage link's token.
func (s *Service) openManage(token string) (links.Claims, error) {
	claims, err := s.Links.Open(token, links.Manage)
	switch {
	case errors.Is(err, links.ErrExpired):
		return claims, ErrLinkExpired
	case err != nil:
		return claims, ErrLinkInvalid
	}
	return claims, nil
}

func (s *Service) membership(ctx context.Context, email string) (MembershipView, error) {
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
func (s *Service) ChangeGroups(ctx context.Context, token string, want, offered []string) (MembershipView, error) {
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
func (s *Service) LeaveAll(ctx context.Context, token string) (MembershipView, error) {
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
func (s *Service) LeaveGroup(ctx context.Context, token, groupID string) (MembershipView, error) {
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
func (s *Service) Unsubscribe(ctx context.Context, token string) ([]Group, error) {
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
func (s *Service) UnsubscribeGroups(ctx context.Context, token string) ([]Group, error) {
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
func (s *Service) SendManageLink(ctx context.Context, email, clientIP string) error {
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
	if err := s.Store.CountRequest(ctx, s.limits(email, clientIP), out...); err != nil {
		return fmt.Errorf("manage link: %w", err)
	}
	return nil
}

// emailData fills what every email carries: the manage link.
func (s *Service) emailData(email, name string, groups []Group) (emailData, error) {
	manage, err := s.Links.Seal(links.Claims{Purpose: links.Manage, Email: email}, ManageLinkTTL)
	if err != nil {
		return emailData{}, err
	}
	return emailData{Name: name, Groups: groups, ManageLink: s.link("/manage", manage)}, nil
}

func (s *Service) link(path, token string) string {
	return s.BaseURL + path + "?token=" + url.QueryEscape(token)
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
