package peergroups

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// Where a council's entry stands. A confirmed sign-up waits for an admin; only a
// listed entry is shown publicly. A decline or a withdrawal sticks (later sign-ups by
// other contacts only add contacts) until an admin lists the council.
const (
	RegisterPending   = "pending"   // confirmed by a contact, waiting for an admin
	RegisterListed    = "listed"    // approved by an admin: on the public register
	RegisterDeclined  = "declined"  // not approved by an admin
	RegisterWithdrawn = "withdrawn" // taken off the public register by an admin
)

// RegisterEntry is a council that has signed up to the Local Government Digital
// Service Standard, and whether it is on the public register.
type RegisterEntry struct {
	Code        string
	Name        string
	Region      string
	SignedUpAt  time.Time
	Status      string
	ListedAt    time.Time
	WithdrawnAt time.Time // when it was declined or withdrawn
	Reason      string    // why an admin declined or withdrew it
}

// Listed says whether the council is shown on the public register.
func (e RegisterEntry) Listed() bool { return e.Status == RegisterListed }

// Pending says whether the entry waits for an admin's approval.
func (e RegisterEntry) Pending() bool { return e.Status == RegisterPending }

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

// RegisterForm is the "sign your council up" form's answers.
type RegisterForm struct {
	Council string
	Name    string
	Email   string
	Role    string
}

// RegisterStore is what Register keeps: the council register and its pending sign-ups.
type RegisterStore interface {
	SavePendingRegistration(ctx context.Context, p PendingRegistration, limits []RateLimit, out ...OutboxItem) error
	PendingRegistration(ctx context.Context, email, council string) (PendingRegistration, error)
	// ConfirmRegistration adds the contact and, for a council not yet signed up, a
	// pending entry; an existing entry keeps its status and reason. Only while the
	// pending nonce is the stored one.
	ConfirmRegistration(ctx context.Context, p PendingRegistration, c Council, at time.Time) error
	Register(ctx context.Context) ([]RegisterEntry, error)
	RegisterEntry(ctx context.Context, code string) (RegisterEntry, []RegisterContact, error)
	// DecideRegistration gives an entry an admin's decision (e's status, with its time
	// and reason) and writes the audit entry, all or nothing, on condition that the
	// entry's status is still from: a KindConflict error otherwise.
	DecideRegistration(ctx context.Context, e RegisterEntry, from string, a AuditEntry) error
}

// Register is the register of councils signed up to the Local Government Digital
// Service Standard: their sign-ups, and the admins' decisions on what is listed.
type Register struct {
	Env
	Store    RegisterStore
	Councils *Councils
	Limiter  Limiter
}

// Validate checks the council sign-up form, in the order of its fields.
func (f RegisterForm) Validate(councils *Councils) FieldErrors {
	var errs FieldErrors
	if _, ok := councils.Lookup(f.Council); !ok {
		if f.Council == "" {
			errs.add("council", "Select your council")
		} else {
			errs.add("council", "Select your council from the list")
		}
	}
	errs.short("name", f.Name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	errs.email("email", f.Email)
	errs.short("role", f.Role, "Role", MaxNameLength, "Enter your role at the council", "Enter your role without a web address")
	return errs
}

// RequestRegistration records a council sign-up and emails a link to confirm it.
func (s *Register) RequestRegistration(ctx context.Context, f RegisterForm, clientIP string) error {
	if err := f.Validate(s.Councils).Err(); err != nil {
		return err
	}
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
	if err := s.Store.SavePendingRegistration(ctx, p, s.Limiter.requests(email, clientIP, s.Now()), mail); err != nil {
		return fmt.Errorf("save council sign-up: %w", err)
	}
	return nil
}

// PendingRegistrationFor checks a council sign-up link, changing nothing.
func (s *Register) PendingRegistrationFor(ctx context.Context, token string) (PendingRegistration, Council, error) {
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

// ConfirmRegistration records a council's sign-up (or adds a contact to its entry),
// once. A new entry waits for an admin before it is shown publicly; an entry an admin
// declined or withdrew stays so. It says whether the council is on the public register.
func (s *Register) ConfirmRegistration(ctx context.Context, token string) (Council, bool, error) {
	p, c, err := s.PendingRegistrationFor(ctx, token)
	if err != nil {
		return c, false, err
	}
	if err := s.Store.ConfirmRegistration(ctx, p, c, s.Now()); err != nil {
		return c, false, fmt.Errorf("confirm council sign-up: %w", err)
	}
	entry, _, err := s.Store.RegisterEntry(ctx, c.Code)
	if err != nil {
		return c, false, fmt.Errorf("read register entry: %w", err)
	}
	return c, entry.Listed(), nil
}

// RegionEntries is the register's entries in one region.
type RegionEntries struct {
	Region  string
	Entries []RegisterEntry
}

// PublicRegister returns the councils on the register, by region, each sorted by name.
func (s *Register) PublicRegister(ctx context.Context) ([]RegionEntries, error) {
	all, err := s.Store.Register(ctx)
	if err != nil {
		return nil, fmt.Errorf("read register: %w", err)
	}
	byRegion := map[string][]RegisterEntry{}
	for _, e := range all {
		if e.Listed() {
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

// FullRegister returns every entry, pending, declined and withdrawn ones too. Admins only.
func (s *Register) FullRegister(ctx context.Context, c Caller) ([]RegisterEntry, error) {
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
func (s *Register) RegisterEntryFor(ctx context.Context, c Caller, code string) (RegisterEntry, []RegisterContact, error) {
	if !c.Admin {
		return RegisterEntry{}, nil, ErrForbidden
	}
	e, contacts, err := s.Store.RegisterEntry(ctx, code)
	if KindOf(err) == KindNotFound {
		return e, nil, Errorf(KindNotFound, "That council is not on the register.")
	}
	return e, contacts, err
}

// ListRegistration puts a council on the public register: a pending one (approving
// it), or one declined or withdrawn before (listing it again). Admins only.
func (s *Register) ListRegistration(ctx context.Context, c Caller, code string) error {
	return s.decideRegistration(ctx, c, code, "list council", func(before RegisterEntry) (RegisterEntry, error) {
		if before.Listed() {
			return before, Errorf(KindConflict, "%s is already on the public register.", before.Name)
		}
		after := before
		after.Status, after.ListedAt, after.WithdrawnAt, after.Reason = RegisterListed, s.Now(), time.Time{}, ""
		return after, nil
	})
}

// DeclineRegistration keeps a pending council off the public register, with a
// reason. Admins only.
func (s *Register) DeclineRegistration(ctx context.Context, c Caller, code, reason string) error {
	if err := ValidateReason(reason).Err(); err != nil {
		return err
	}
	return s.decideRegistration(ctx, c, code, "decline council", func(before RegisterEntry) (RegisterEntry, error) {
		if !before.Pending() {
			return before, Errorf(KindConflict, "Only a sign-up waiting for approval can be declined: %s is %s.", before.Name, before.Status)
		}
		after := before
		after.Status, after.WithdrawnAt, after.Reason = RegisterDeclined, s.Now(), reason
		return after, nil
	})
}

// WithdrawRegistration takes a council off the public register, with a reason,
// until an admin lists it again. Admins only.
func (s *Register) WithdrawRegistration(ctx context.Context, c Caller, code, reason string) error {
	if err := ValidateReason(reason).Err(); err != nil {
		return err
	}
	return s.decideRegistration(ctx, c, code, "withdraw council", func(before RegisterEntry) (RegisterEntry, error) {
		if !before.Listed() {
			return before, Errorf(KindConflict, "Only a council on the public register can be withdrawn: %s is %s.", before.Name, before.Status)
		}
		after := before
		after.Status, after.WithdrawnAt, after.Reason = RegisterWithdrawn, s.Now(), reason
		return after, nil
	})
}

// decideRegistration reads an entry, applies an admin's decision to it, and writes it
// with its audit entry, on condition that nobody changed its status meanwhile.
func (s *Register) decideRegistration(ctx context.Context, c Caller, code, action string, decide func(RegisterEntry) (RegisterEntry, error)) error {
	if !c.Admin {
		return ErrForbidden
	}
	before, _, err := s.RegisterEntryFor(ctx, c, code)
	if err != nil {
		return err
	}
	after, err := decide(before)
	if err != nil {
		return err
	}
	if err := s.Store.DecideRegistration(ctx, after, before.Status, s.audit(c, action, code, before, after)); err != nil {
		return fmt.Errorf("%s %s: %w", action, code, err)
	}
	return nil
}
