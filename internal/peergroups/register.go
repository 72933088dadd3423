package peergroups

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// RegisterEntry is a council on the public register of councils that have signed up
// to the Local Government Digital Service Standard.
type RegisterEntry struct {
	Code        string
	Name        string
	Region      string
	SignedUpAt  time.Time
	Withdrawn   bool
	WithdrawnAt time.Time
	Reason      string // why an admin withdrew it
}

// RegisterContact is a person who signed their council up.
type RegisterContact struct {
	Email string
	Name  string
	Role  string
	At    time.Time
}

// PendingRegistration is a council sign-up waiting for its email to be confirmed.
type PendingRegistration struct {
	Email     string
	Council   string // code
	Name      string
	Role      string
	NonceHash string
	ExpiresAt time.Time
}

// RegisterForm is the "sign your council up" form, decoded.
type RegisterForm struct {
	Council string
	Name    string
	Email   string
	Role    string
}

// RegisterStore keeps the council register.
type RegisterStore interface {
	SavePendingRegistration(ctx context.Context, p PendingRegistration, limits []RateLimit, out ...OutboxItem) error
	PendingRegistration(ctx context.Context, email, council string) (PendingRegistration, error)
	// ConfirmRegistration adds the contact and, for a council not yet on the register
	// (or withdrawn from it), the entry; only while the pending nonce is the stored one.
	ConfirmRegistration(ctx context.Context, p PendingRegistration, c Council, restart bool, at time.Time) error
	Register(ctx context.Context) ([]RegisterEntry, error)
	RegisterEntry(ctx context.Context, code string) (RegisterEntry, []RegisterContact, error)
	WithdrawRegistration(ctx context.Context, e RegisterEntry, a AuditEntry) error
}

// DecodeRegister reads the council sign-up form.
func DecodeRegister(v url.Values, councils *Councils) (RegisterForm, FieldErrors) {
	var f RegisterForm
	var errs FieldErrors
	f.Council, _ = text(v, "council")
	if _, ok := councils.Lookup(f.Council); !ok {
		if f.Council == "" {
			errs.add("council", "Select your council")
		} else {
			errs.add("council", "Select your council from the list")
			f.Council = ""
		}
	}
	f.Name = errs.line(v, "name", "Full name", MaxNameLength, "Enter your full name")
	f.Email = errs.email(v, "email")
	f.Role = errs.line(v, "role", "Role", MaxNameLength, "Enter your role at the council")
	return f, errs
}

// RequestRegistration records a council sign-up and emails a link to confirm it.
func (s *Service) RequestRegistration(ctx context.Context, f RegisterForm, clientIP string) error {
	email := NormaliseEmail(f.Email)
	nonce, err := s.Links.NewNonce()
	if err != nil {
		return err
	}
	c, _ := s.Councils.Lookup(f.Council)
	p := PendingRegistration{Email: email, Council: c.Code, Name: f.Name, Role: f.Role, NonceHash: links.HashNonce(nonce), ExpiresAt: s.Now().Add(ConfirmLinkTTL)}
	token, err := s.Links.Seal(links.Claims{Purpose: links.Register, Email: email, Nonce: nonce, Subject: c.Code}, ConfirmLinkTTL)
	if err != nil {
		return err
	}
	data, err := s.emailData(email, f.Name, nil)
	if err != nil {
		return err
	}
	data.Link = s.link("/councils/confirm", token)
	data.Council = c.Name
	data.Hours = int(ConfirmLinkTTL / time.Hour)
	mail, err := s.mail(email, "Confirm your council’s sign-up to the Standard", "register", data)
	if err != nil {
		return err
	}
	if err := s.Store.SavePendingRegistration(ctx, p, s.limits(email, clientIP), mail); err != nil {
		return fmt.Errorf("save council sign-up: %w", err)
	}
	return nil
}

// PendingRegistrationFor checks a council sign-up link, changing nothing.
func (s *Service) PendingRegistrationFor(ctx context.Context, token string) (PendingRegistration, Council, error) {
	claims, err := s.Links.Open(token, links.Register)
	switch {
	case errors.Is(err, links.ErrExpired):
		return PendingRegistration{}, Council{}, ErrLinkExpired
	case err != nil:
		return PendingRegistration{}, Council{}, ErrLinkInvalid
	}
	p, err := s.Store.PendingRegistration(ctx, claims.Email, claims.Subject)
	switch {
	case KindOf(err) == KindNotFound:
		return p, Council{}, ErrLinkUsed
	case err != nil:
		return p, Council{}, fmt.Errorf("read council sign-up: %w", err)
	case p.NonceHash != links.HashNonce(claims.Nonce):
		return p, Council{}, ErrLinkReplaced
	case !s.Now().Before(p.ExpiresAt):
		return p, Council{}, ErrLinkExpired
	}
	c, ok := s.Councils.Lookup(p.Council)
	if !ok {
		return p, Council{}, ErrLinkInvalid
	}
	return p, c, nil
}

// ConfirmRegistration puts the council on the register (or adds a contact to its
// entry), once.
func (s *Service) ConfirmRegistration(ctx context.Context, token string) (Council, error) {
	p, c, err := s.PendingRegistrationFor(ctx, token)
	if err != nil {
		return c, err
	}
	entry, _, err := s.Store.RegisterEntry(ctx, c.Code)
	restart := KindOf(err) == KindNotFound || entry.Withdrawn
	if err != nil && KindOf(err) != KindNotFound {
		return c, fmt.Errorf("read register entry: %w", err)
	}
	if err := s.Store.ConfirmRegistration(ctx, p, c, restart, s.Now()); err != nil {
		return c, fmt.Errorf("confirm council sign-up: %w", err)
	}
	return c, nil
}

// RegionEntries is the register's entries in one region.
type RegionEntries struct {
	Region  string
	Entries []RegisterEntry
}

// PublicRegister returns the councils on the register, by region, each sorted by name.
func (s *Service) PublicRegister(ctx context.Context) ([]RegionEntries, error) {
	all, err := s.Store.Register(ctx)
	if err != nil {
		return nil, fmt.Errorf("read register: %w", err)
	}
	byRegion := map[string][]RegisterEntry{}
	for _, e := range all {
		if !e.Withdrawn {
			byRegion[e.Region] = append(byRegion[e.Region], e)
		}
	}
	var out []RegionEntries
	for region, entries := range byRegion {
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		out = append(out, RegionEntries{Region: region, Entries: entries})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out, nil
}

// FullRegister returns every entry, withdrawn ones too. Admins only.
func (s *Service) FullRegister(ctx context.Context, c Caller) ([]RegisterEntry, error) {
	if !c.Admin {
		return nil, ErrForbidden
	}
	all, err := s.Store.Register(ctx)
	if err != nil {
		return nil, fmt.Errorf("read register: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// RegisterEntryFor returns one entry and its contacts. Admins only.
func (s *Service) RegisterEntryFor(ctx context.Context, c Caller, code string) (RegisterEntry, []RegisterContact, error) {
	if !c.Admin {
		return RegisterEntry{}, nil, ErrForbidden
	}
	e, contacts, err := s.Store.RegisterEntry(ctx, code)
	if KindOf(err) == KindNotFound {
		return e, nil, Errorf(KindNotFound, "That council is not on the register.")
	}
	return e, contacts, err
}

// WithdrawRegistration takes a council off the public register, with a reason. Admins only.
func (s *Service) WithdrawRegistration(ctx context.Context, c Caller, code, reason string) error {
	if !c.Admin {
		return ErrForbidden
	}
	before, _, err := s.RegisterEntryFor(ctx, c, code)
	if err != nil {
		return err
	}
	after := before
	after.Withdrawn, after.WithdrawnAt, after.Reason = true, s.Now(), reason
	if err := s.Store.WithdrawRegistration(ctx, after, s.audit(c, "withdraw council", code, before, after)); err != nil {
		return fmt.Errorf("withdraw council %s: %w", code, err)
	}
	return nil
}

// DecodeReason reads a required reason (withdrawing a council, declining a proposal).
func DecodeReason(v url.Values) (string, FieldErrors) {
	var errs FieldErrors
	r := errs.paragraph(v, "reason", "Reason", 1000, "Enter the reason")
	return r, errs
}
