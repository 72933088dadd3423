package peergroups

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// How long sign-in links and sessions last.
const (
	SignInLinkTTL     = 15 * time.Minute
	InvitationLinkTTL = 7 * 24 * time.Hour // a sign-in link in an invitation to facilitate
	SessionTTL        = 8 * time.Hour
)

// Role names, as stored and shown.
const (
	RoleAdmin       = "admin"
	RoleFacilitator = "facilitator"
)

// Caller is who is making a request. The zero Caller is anonymous.
type Caller struct {
	Email       string
	Name        string
	Admin       bool
	Facilitates []string // group IDs
	Session     string   // the session's key (a hash), for signing out
}

// SignedIn reports whether the caller has a session.
func (c Caller) SignedIn() bool { return c.Email != "" }

// CanFacilitate reports whether the caller may run a group: its facilitators and admins.
func (c Caller) CanFacilitate(group string) bool {
	return c.Admin || slices.Contains(c.Facilitates, group)
}

// IsFacilitator reports whether the caller facilitates any group.
func (c Caller) IsFacilitator() bool { return len(c.Facilitates) > 0 }

// SignInLink is a stored sign-in link: only the hash of its token is kept.
type SignInLink struct {
	TokenHash string
	Email     string
	ExpiresAt time.Time
}

// Session is a signed-in browser.
type Session struct {
	Key       string // the hash of the session ID; the ID itself is only in the cookie
	Email     string
	ExpiresAt time.Time
}

// AccessStore is what Access keeps: sign-in links and sessions, and who has a role.
type AccessStore interface {
	Person(ctx context.Context, email string) (Person, error)
	// SaveSignInLink stores a link, counted against limits, with its outbox items (the
	// email that carries it), all or nothing.
	SaveSignInLink(ctx context.Context, l SignInLink, limits []RateLimit, out ...OutboxItem) error
	SignInLink(ctx context.Context, tokenHash string) (SignInLink, error)
	// ConsumeSignInLink deletes the link and returns it; a second call returns a
	// KindNotFound error, so a link works once.
	ConsumeSignInLink(ctx context.Context, tokenHash string) (SignInLink, error)
	SaveSession(ctx context.Context, s Session) error
	Session(ctx context.Context, key string) (Session, error)
	DeleteSession(ctx context.Context, key string) error
	RequestCounter
}

// Access is signing in and out, sessions, and who a caller is (their roles).
type Access struct {
	Env
	Store   AccessStore
	Limiter Limiter
	// Admins are the addresses that are admins by configuration (ADMIN_EMAILS).
	Admins []string
}

// hashToken returns what is stored for a secret token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randomToken returns 32 random bytes, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// isAdminByConfig reports whether email is one of the bootstrap admins.
func (s *Access) isAdminByConfig(email string) bool {
	return slices.Contains(s.Admins, NormaliseEmail(email))
}

// mayHaveSignIn reports whether a person has anything to sign in to.
func (s *Access) mayHaveSignIn(p Person) bool {
	return p.Known || p.Admin || len(p.Facilitates) > 0 || s.isAdminByConfig(p.Email)
}

// RequestSignIn emails a sign-in link to an address that has something to sign in
// to. It answers the same whether or not the address belongs to anyone.
func (s *Access) RequestSignIn(ctx context.Context, email, clientIP string) error {
	if err := ValidateEmail(email).Err(); err != nil {
		return err
	}
	email = NormaliseEmail(email)
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	limits := s.Limiter.signIn(email, clientIP, s.Now())
	if !s.mayHaveSignIn(person) {
		// Count the attempt all the same, so that probing costs the same.
		return s.Store.CountRequest(ctx, limits)
	}
	return s.sendSignInLink(ctx, person, SignInLinkTTL, limits, "signin", emailData{})
}

// sendSignInLink stores a new sign-in link and, in the same transaction, the email
// (made with the template name) that carries it.
func (s *Access) sendSignInLink(ctx context.Context, person Person, ttl time.Duration, limits []RateLimit, template string, data emailData) error {
	token, err := randomToken()
	if err != nil {
		return err
	}
	link := SignInLink{TokenHash: hashToken(token), Email: person.Email, ExpiresAt: s.Now().Add(ttl)}
	base, err := s.emailData(person.Email, person.Profile.Name, data.Groups)
	if err != nil {
		return err
	}
	data.ManageLink = base.ManageLink
	if data.Name == "" {
		data.Name = person.Profile.Name
	}
	data.Link = s.BaseURL + "/sign-in/link?token=" + token
	data.Minutes = int(ttl / time.Minute)
	data.Days = int(ttl / (24 * time.Hour))
	subject := "Sign in to Peer Groups"
	if template == "invite-facilitator" {
		subject = "You have been asked to facilitate a peer group"
	}
	mail, err := s.mail(person.Email, subject, template, data)
	if err != nil {
		return err
	}
	// A sign-in link the person asked for on the sign-in page goes even to a suppressed
	// address (an admin whose mailbox was full for a week must still be able to sign in);
	// an invitation nobody asked for from this address does not.
	mail.Message.Requested = template == "signin"
	if err := s.Store.SaveSignInLink(ctx, link, limits, mail); err != nil {
		return fmt.Errorf("save sign-in link: %w", err)
	}
	return nil
}

// InviteFacilitator emails an address that was made a facilitator of a group an
// invitation with a sign-in link (that lasts InvitationLinkTTL).
func (s *Access) InviteFacilitator(ctx context.Context, email string, g Group) error {
	person, err := s.Store.Person(ctx, email)
	if err != nil {
		return fmt.Errorf("invite facilitator: %w", err)
	}
	return s.sendSignInLink(ctx, person, InvitationLinkTTL, nil, "invite-facilitator", emailData{Groups: []Group{g}})
}

// CheckSignInLink reports whether a sign-in link can still be used, changing nothing.
func (s *Access) CheckSignInLink(ctx context.Context, token string) error {
	if token == "" || len(token) > 100 {
		return ErrLinkInvalid
	}
	link, err := s.Store.SignInLink(ctx, hashToken(token))
	if KindOf(err) == KindNotFound {
		return ErrSignInLinkUnknown
	}
	if err != nil {
		return fmt.Errorf("check sign-in link: %w", err)
	}
	if !s.Now().Before(link.ExpiresAt) {
		return ErrLinkExpired
	}
	return nil
}

// ErrSignInLinkUnknown is a sign-in link that was used, or never existed: only the
// hash of a token is stored, and a used link is deleted, so the two look the same.
var ErrSignInLinkUnknown = &Error{Kind: KindGone, Message: "This sign-in link has already been used, or is not valid. Sign-in links work once."}

// SignIn uses a sign-in link, once, and starts a session. It returns the session ID
// for the cookie; only its hash is stored.
func (s *Access) SignIn(ctx context.Context, token string) (string, Caller, error) {
	if token == "" || len(token) > 100 {
		return "", Caller{}, ErrLinkInvalid
	}
	link, err := s.Store.ConsumeSignInLink(ctx, hashToken(token))
	if KindOf(err) == KindNotFound {
		return "", Caller{}, ErrSignInLinkUnknown
	}
	if err != nil {
		return "", Caller{}, fmt.Errorf("sign in: %w", err)
	}
	if !s.Now().Before(link.ExpiresAt) {
		return "", Caller{}, ErrLinkExpired
	}
	id, err := randomToken()
	if err != nil {
		return "", Caller{}, err
	}
	session := Session{Key: hashToken(id), Email: link.Email, ExpiresAt: s.Now().Add(SessionTTL)}
	if err := s.Store.SaveSession(ctx, session); err != nil {
		return "", Caller{}, fmt.Errorf("start session: %w", err)
	}
	caller, err := s.callerFor(ctx, session)
	return id, caller, err
}

// Caller returns who holds a session ID. An unknown or expired session is anonymous.
func (s *Access) Caller(ctx context.Context, sessionID string) (Caller, error) {
	session, err := s.Store.Session(ctx, hashToken(sessionID))
	if KindOf(err) == KindNotFound {
		return Caller{}, nil
	}
	if err != nil {
		return Caller{}, fmt.Errorf("read session: %w", err)
	}
	if !s.Now().Before(session.ExpiresAt) {
		return Caller{}, nil
	}
	return s.callerFor(ctx, session)
}

func (s *Access) callerFor(ctx context.Context, session Session) (Caller, error) {
	person, err := s.Store.Person(ctx, session.Email)
	if err != nil {
		return Caller{}, fmt.Errorf("read roles: %w", err)
	}
	return Caller{
		Email:       person.Email,
		Name:        person.Profile.Name,
		Admin:       person.Admin || s.isAdminByConfig(person.Email),
		Facilitates: person.Facilitates,
		Session:     session.Key,
	}, nil
}

// SignOut ends a session on the server: its cookie no longer works anywhere.
func (s *Access) SignOut(ctx context.Context, c Caller) error {
	if c.Session == "" {
		return nil
	}
	if err := s.Store.DeleteSession(ctx, c.Session); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// SignSession returns the cookie value for a session ID: "<ID>.<key ID>.<MAC>", so
// that a forged cookie is refused before any lookup, and a cookie signed before a
// rotation of the secret still works while the previous secret is accepted.
func SignSession(keys *links.Keyring, id string) string {
	return id + "." + keys.Sign(links.UseSessions, id)
}

// OpenSession returns the session ID of a signed cookie value, or false.
func OpenSession(keys *links.Keyring, value string) (string, bool) {
	id, signed, ok := strings.Cut(value, ".")
	if !ok || id == "" || len(value) > 200 || !keys.Verify(links.UseSessions, signed, id) {
		return "", false
	}
	return id, true
}

// ManageLinkFor returns a fresh "Manage your membership" path for a signed-in caller.
func (s *Access) ManageLinkFor(c Caller) (string, error) {
	if !c.SignedIn() {
		return "", ErrForbidden
	}
	token, err := s.Links.Seal(links.Claims{Purpose: links.Manage, Email: c.Email}, ManageLinkTTLAsked)
	if err != nil {
		return "", err
	}
	return "/manage?token=" + url.QueryEscape(token), nil
}

// IssueSignInLink stores a sign-in link for an address and returns it without
// emailing it. The local server prints one for its admin; nothing else uses it.
func (s *Access) IssueSignInLink(ctx context.Context, email string, ttl time.Duration) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	link := SignInLink{TokenHash: hashToken(token), Email: NormaliseEmail(email), ExpiresAt: s.Now().Add(ttl)}
	if err := s.Store.SaveSignInLink(ctx, link, nil); err != nil {
		return "", fmt.Errorf("save sign-in link: %w", err)
	}
	return s.BaseURL + "/sign-in/link?token=" + token, nil
}
