package peergroups

// Privacy: a person downloads everything held about them, or has it deleted. Both are
// asked for from a page the person's manage link opened (or their account page), and
// done from a link emailed to the address: sealed, expiring, and usable once (its
// nonce's hash is stored until it is used or expires).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// How long the privacy links last.
const (
	ExportLinkTTL = time.Hour
	EraseLinkTTL  = 24 * time.Hour
)

// PersonData is everything held about one person, found by the keys of their
// address: each item as stored, without the table's own keys.
type PersonData struct {
	Email       string           `json:"email"`
	ExportedAt  time.Time        `json:"exportedAt"`
	Person      []map[string]any `json:"person"`      // profile, sign-up, memberships (with their consent), interests, roles
	RSVPs       []map[string]any `json:"rsvps"`       // answers to events
	Deliveries  []map[string]any `json:"deliveries"`  // the ledger's rows of announcements, briefs and reminders to them
	Messages    []map[string]any `json:"messages"`    // messages they sent us (what was read of them)
	Suppression []map[string]any `json:"suppression"` // whether their address is on our suppression list
	Signups     []map[string]any `json:"signups"`     // a council's contact, interest in a proposed group, the proposals they made
	Emails      []map[string]any `json:"emails"`      // the emails the audit trail says were sent to them, with what became of each
	Audit       []map[string]any `json:"audit"`       // the audit entries about them (by their address, or the keyed hash that stands for it)
	// Authored is what they wrote or did as a facilitator or admin (kit revisions,
	// variants, merges, suggestions made and answered, replies in the inbox), each with
	// its round and kit, or its conversation and group.
	Authored []map[string]any `json:"authored"`
}

// PrivacyStore is what Privacy keeps and reads.
type PrivacyStore interface {
	// SavePrivacyLink stores the hash of a privacy link's nonce until it expires, with
	// its outbox items, in one transaction.
	SavePrivacyLink(ctx context.Context, purpose, nonceHash string, expires time.Time, out ...OutboxItem) error
	// PrivacyLinkLive reports whether a privacy link is unused and unexpired at now.
	PrivacyLinkLive(ctx context.Context, purpose, nonceHash string, now time.Time) (bool, error)
	// UsePrivacyLink removes a privacy link's nonce if it is unused and unexpired at
	// now; otherwise it returns ErrLinkUsed.
	UsePrivacyLink(ctx context.Context, purpose, nonceHash string, now time.Time) error
	// PersonData reads everything held about an address, by its keys, and the audit
	// entries about it (by the address or hash, the keyed hash that stands for it).
	PersonData(ctx context.Context, email, hash string) (PersonData, error)
	// ErasePerson deletes everything held about an address, puts its hash on the
	// suppression list and records the audit entry (which names only the hash). What
	// they wrote or did in items that are not theirs (kits, suggestions, replies, roles
	// they gave) is kept, by FormerFacilitator or FormerAdmin instead of the address. Before
	// it deletes the items of their messages, it hands files the keys of the objects
	// those items name (raw messages, and attachments no other message uses), when
	// there are any and files is not nil.
	ErasePerson(ctx context.Context, email, hash string, at time.Time, a AuditEntry, files func(ctx context.Context, keys []string) error) error
}

// MailFiles deletes the objects of received mail (the receiving bucket).
type MailFiles interface {
	DeleteMailObjects(ctx context.Context, keys []string) error
}

// ExportFiles deletes downloads kept for a while (the exports bucket) whose contents
// mention text.
type ExportFiles interface {
	DeleteMentioning(ctx context.Context, prefix, text string) (int, error)
}

// MembersExportPrefix is where the members CSV downloads are kept in the exports
// bucket (each lists addresses).
const MembersExportPrefix = "members/"

// Privacy exports and erases a person's data.
type Privacy struct {
	Env
	Store PrivacyStore
	// Pseudonym is the keyed hash an erased address is known by afterwards: keyed by a
	// secret that is never rotated (PSEUDONYM_KEY), so that it stays the same.
	Pseudonym func(parts ...string) string
	// Mail deletes an erased person's received messages and attachments; Exports the
	// members CSVs that list them. Nil where there is no bucket.
	Mail    MailFiles
	Exports ExportFiles
}

// AddressHash returns the keyed hash that stands for an address once it is erased: in
// the suppression list and the audit trail.
func (s *Privacy) AddressHash(email string) string { return ErasedHash(s.Pseudonym, email) }

// ErasedHash returns the keyed hash an erased address is known by, with pseudonym
// (the keyring's).
func ErasedHash(pseudonym func(parts ...string) string, email string) string {
	return pseudonym("erased", NormaliseEmail(email))
}

// PrivacyRequest is what a manage page's "download my data" or "delete my data" asks.
type PrivacyRequest struct {
	Purpose links.Purpose // links.Export or links.Erase
	Email   string
}

// RequestByManageLink emails a privacy link to the person of a manage link.
func (s *Privacy) RequestByManageLink(ctx context.Context, manageToken string, purpose links.Purpose) error {
	claims, err := s.Links.Open(manageToken, links.Manage)
	switch {
	case errors.Is(err, links.ErrExpired):
		return ErrLinkExpired
	case err != nil:
		return ErrLinkInvalid
	}
	return s.Request(ctx, claims.Email, purpose)
}

// Request emails the address a link that downloads (links.Export) or deletes
// (links.Erase) everything held about it.
func (s *Privacy) Request(ctx context.Context, email string, purpose links.Purpose) error {
	if purpose != links.Export && purpose != links.Erase {
		return Errorf(KindInvalid, "Choose to download or to delete your data")
	}
	email = NormaliseEmail(email)
	nonce, err := s.Links.NewNonce()
	if err != nil {
		return err
	}
	ttl, path, subject, template := ExportLinkTTL, "/privacy/export", "Download your Peer Groups data", "privacy-export"
	if purpose == links.Erase {
		ttl, path, subject, template = EraseLinkTTL, "/privacy/erase", "Confirm that you want your Peer Groups data deleted", "privacy-erase"
	}
	token, err := s.Links.Seal(links.Claims{Purpose: purpose, Email: email, Nonce: nonce}, ttl)
	if err != nil {
		return err
	}
	data, err := s.emailData(email, "", nil)
	if err != nil {
		return err
	}
	data.Link = s.link(path, token)
	data.Hours = int(ttl / time.Hour)
	msg, err := s.mail(email, subject, template, data)
	if err != nil {
		return err
	}
	if err := s.Store.SavePrivacyLink(ctx, string(purpose), links.HashNonce(nonce), s.Now().Add(ttl), msg); err != nil {
		return fmt.Errorf("privacy %s link: %w", purpose, err)
	}
	return nil
}

// open opens a privacy link and returns its claims.
func (s *Privacy) open(token string, purpose links.Purpose) (links.Claims, error) {
	claims, err := s.Links.Open(token, purpose)
	switch {
	case errors.Is(err, links.ErrExpired):
		return claims, ErrLinkExpired
	case err != nil || claims.Nonce == "":
		return claims, ErrLinkInvalid
	}
	return claims, nil
}

// Check returns the address of a privacy link that can still be used, without using it.
func (s *Privacy) Check(ctx context.Context, token string, purpose links.Purpose) (string, error) {
	claims, err := s.open(token, purpose)
	if err != nil {
		return "", err
	}
	live, err := s.Store.PrivacyLinkLive(ctx, string(purpose), links.HashNonce(claims.Nonce), s.Now())
	if err != nil {
		return "", fmt.Errorf("check privacy link: %w", err)
	}
	if !live {
		return "", ErrLinkUsed
	}
	return claims.Email, nil
}

// Export uses an export link and returns everything held about its address as JSON.
func (s *Privacy) Export(ctx context.Context, token string) ([]byte, error) {
	claims, err := s.open(token, links.Export)
	if err != nil {
		return nil, err
	}
	if err := s.Store.UsePrivacyLink(ctx, string(links.Export), links.HashNonce(claims.Nonce), s.Now()); err != nil {
		return nil, err
	}
	return s.exportJSON(ctx, claims.Email)
}

func (s *Privacy) exportJSON(ctx context.Context, email string) ([]byte, error) {
	data, err := s.Store.PersonData(ctx, email, s.AddressHash(email))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	data.Email, data.ExportedAt = email, s.Now().UTC()
	out, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: encode: %w", err)
	}
	return out, nil
}

// Erase uses an erase link and deletes everything held about its address.
func (s *Privacy) Erase(ctx context.Context, token string) error {
	claims, err := s.open(token, links.Erase)
	if err != nil {
		return err
	}
	if err := s.Store.UsePrivacyLink(ctx, string(links.Erase), links.HashNonce(claims.Nonce), s.Now()); err != nil {
		return err
	}
	return s.erase(ctx, claims.Email, "erased by its owner", "")
}

func (s *Privacy) erase(ctx context.Context, email, action, actor string) error {
	hash := s.AddressHash(email)
	if actor == "" {
		actor = "person " + hash
	}
	a := AuditEntry{At: s.Now(), Actor: actor, Action: action, Target: "person " + hash}
	email = NormaliseEmail(email)
	if s.Exports != nil {
		// The members CSVs an admin or facilitator downloaded (kept a day) list them.
		if _, err := s.Exports.DeleteMentioning(ctx, MembersExportPrefix, email); err != nil {
			return fmt.Errorf("erase: the members downloads: %w", err)
		}
	}
	var files func(context.Context, []string) error
	if s.Mail != nil {
		files = s.Mail.DeleteMailObjects
	}
	if err := s.Store.ErasePerson(ctx, email, hash, s.Now(), a, files); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	return nil
}

// AdminExport returns, for an admin answering a data-protection request, everything
// held about an address.
func (s *Privacy) AdminExport(ctx context.Context, c Caller, email string) ([]byte, error) {
	if !c.Admin {
		return nil, Errorf(KindForbidden, "Only admins can do this.")
	}
	if err := ValidateEmail(email).Err(); err != nil {
		return nil, err
	}
	return s.exportJSON(ctx, NormaliseEmail(email))
}

// AdminErase deletes, for an admin answering a data-protection request, everything
// held about an address; the audit entry names the admin and the address's hash.
func (s *Privacy) AdminErase(ctx context.Context, c Caller, email string) error {
	if !c.Admin {
		return Errorf(KindForbidden, "Only admins can do this.")
	}
	if err := ValidateEmail(email).Err(); err != nil {
		return err
	}
	return s.erase(ctx, email, "erased on a data-protection request", c.Email)
}

// Retention is how long each kind of data is kept, as the privacy notice states it.
type Retention struct {
	UnconfirmedSignups time.Duration // a sign-up nobody confirmed
	LeftMembers        time.Duration // someone who left every group, before they are erased
	InboundMail        time.Duration // messages people send us
	DeliveryEvents     time.Duration // what happened to each email we sent
	Audit              time.Duration // the audit trail
}

// DefaultRetention is the retention the service is configured with unless told otherwise.
var DefaultRetention = Retention{
	UnconfirmedSignups: ConfirmLinkTTL,
	LeftMembers:        365 * 24 * time.Hour,
	InboundMail:        365 * 24 * time.Hour,
	DeliveryEvents:     90 * 24 * time.Hour,
	Audit:              6 * 365 * 24 * time.Hour,
}
