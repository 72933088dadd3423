// Package links seals and opens the tokens carried by links in emails.
//
// A token is the JSON of its Claims sealed with AES-256-GCM: it cannot be read or
// changed without the key, so it is signed and opaque at once, and it carries its own
// expiry. Links that change state once (confirming a sign-up) also carry a nonce whose
// hash is stored beside the pending record, so a used or replaced link stops working.
package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Purpose says what a token may be used for; a token for one purpose opens for no other.
type Purpose string

const (
	Confirm     Purpose = "confirm"     // confirm a sign-up (works once, 48 hours)
	Manage      Purpose = "manage"      // open "Manage your membership"
	Unsubscribe Purpose = "unsubscribe" // leave the groups named in the token
	Register    Purpose = "register"    // confirm a council's sign-up to the Standard (works once)
	Propose     Purpose = "propose"     // confirm a proposal for a new group (works once)
	Interest    Purpose = "interest"    // confirm interest in a proposed group (works once)
	Invite      Purpose = "invite"      // join a group started from a proposal
	RSVP        Purpose = "rsvp"        // say whether you are going to your group's event
	Calendar    Purpose = "calendar"    // download your group's event with its full details (until after it)
)

// Claims is what a token says.
type Claims struct {
	Purpose Purpose  `json:"p"`
	Email   string   `json:"e"`
	Nonce   string   `json:"n,omitempty"`
	Groups  []string `json:"g,omitempty"`
	Subject string   `json:"s,omitempty"` // what the link is about: a council code, a proposal, a group
	Name    string   `json:"m,omitempty"` // the person's name, when the link must carry it
	Expires int64    `json:"x"`           // Unix seconds
}

// ExpiresAt returns the expiry as a time.
func (c Claims) ExpiresAt() time.Time { return time.Unix(c.Expires, 0) }

var (
	// ErrInvalid means the token was not made by us, was changed, or is for another purpose.
	ErrInvalid = errors.New("link token is not valid")
	// ErrExpired means the token is genuine but past its expiry; Open returns its claims too.
	ErrExpired = errors.New("link token has expired")
)

// MaxTokenLength bounds what Open will look at; real tokens are far shorter.
const MaxTokenLength = 2048

// Sealer seals and opens tokens with one key.
type Sealer struct {
	aead cipher.AEAD
	rand io.Reader
	now  func() time.Time
}

// NewSealer returns a Sealer for a 32-byte key. rand supplies nonces; now tells the time.
func NewSealer(key []byte, rand io.Reader, now func() time.Time) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("link key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	return &Sealer{aead: aead, rand: rand, now: now}, nil
}

// Seal returns the token for c, valid for ttl from now.
func (s *Sealer) Seal(c Claims, ttl time.Duration) (string, error) {
	c.Expires = s.now().Add(ttl).Unix()
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("seal %s token: %w", c.Purpose, err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return "", fmt.Errorf("seal %s token: nonce: %w", c.Purpose, err)
	}
	sealed := s.aead.Seal(nonce, nonce, plain, []byte(c.Purpose))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the claims of a token made for purpose. A genuine token past its expiry
// returns its claims with ErrExpired, so that the caller can offer a new link.
func (s *Sealer) Open(token string, purpose Purpose) (Claims, error) {
	if token == "" || len(token) > MaxTokenLength {
		return Claims{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return Claims{}, ErrInvalid
	}
	nonce, sealed := raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():]
	plain, err := s.aead.Open(nil, nonce, sealed, []byte(purpose))
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(plain, &c); err != nil || c.Purpose != purpose || c.Email == "" || !utf8.ValidString(c.Email) {
		return Claims{}, ErrInvalid
	}
	if !s.now().Before(c.ExpiresAt()) {
		return c, ErrExpired
	}
	return c, nil
}

// NewNonce returns a random nonce for a once-only link.
func (s *Sealer) NewNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("link nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashNonce returns what is stored for a nonce: its SHA-256, so that reading the
// table does not give anyone a working link.
func HashNonce(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:])
}

// Keyed returns an HMAC-SHA256 of parts under a key derived from the link key for a
// given use. It is used for CSRF tokens and for pseudonymous rate-limit keys.
func Keyed(key []byte, use string, parts ...string) string {
	derive := hmac.New(sha256.New, key)
	derive.Write([]byte(use))
	mac := hmac.New(sha256.New, derive.Sum(nil))
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
