// Package links seals and opens the tokens carried by links in emails.
//
// A token is the JSON of its Claims sealed with AES-256-GCM under a key derived from
// the secret (see Keyring): it cannot be read or changed without the key, so it is
// signed and opaque at once, and it carries its own expiry and the ID of the key that
// sealed it, so that a previous secret can still open it after a rotation. Links that
// change state once (confirming a sign-up) also carry a nonce whose hash is stored
// beside the pending record, so a used or replaced link stops working.
package links

import (
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
	Export      Purpose = "export"      // download everything held about you (works once, an hour)
	Erase       Purpose = "erase"       // delete everything held about you (works once)
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

// Sealer seals tokens with the keyring's current key and opens those of any key the
// keyring accepts.
type Sealer struct {
	keys *Keyring
	rand io.Reader
}

// NewSealer returns a Sealer. rand supplies nonces; the keyring's clock tells the time.
func NewSealer(keys *Keyring, rand io.Reader) *Sealer {
	return &Sealer{keys: keys, rand: rand}
}

// tokenVersion is the first byte of a token: version 1 is followed by the key ID, the
// GCM nonce and the sealed claims, all of the header authenticated with the purpose.
const tokenVersion = 1

func header(keyID []byte) []byte { return append([]byte{tokenVersion}, keyID...) }

// Seal returns the token for c, valid for ttl from now, sealed with the current key.
func (s *Sealer) Seal(c Claims, ttl time.Duration) (string, error) {
	c.Expires = s.keys.now().Add(ttl).Unix()
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("seal %s token: %w", c.Purpose, err)
	}
	ks := s.keys.current
	head := header(ks.rawID)
	n := ks.links.NonceSize()
	out := make([]byte, len(head)+n, len(head)+n+len(plain)+ks.links.Overhead())
	copy(out, head)
	if _, err := io.ReadFull(s.rand, out[len(head):]); err != nil {
		return "", fmt.Errorf("seal %s token: nonce: %w", c.Purpose, err)
	}
	sealed := ks.links.Seal(out, out[len(head):], plain, append(head, c.Purpose...))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// KeyID returns the key ID a token names, or "" when it names none (a malformed token,
// or one sealed before tokens carried key IDs). It does not say the token is genuine.
func KeyID(token string) string {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 1+keyIDBytes || raw[0] != tokenVersion {
		return ""
	}
	return hex.EncodeToString(raw[1 : 1+keyIDBytes])
}

// Open returns the claims of a token made for purpose, under the current key or the
// previous one while its overlap lasts. A genuine token past its expiry returns its
// claims with ErrExpired, so that the caller can offer a new link.
func (s *Sealer) Open(token string, purpose Purpose) (Claims, error) {
	if token == "" || len(token) > MaxTokenLength {
		return Claims{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	plain, ok := s.open(raw, purpose)
	if !ok {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(plain, &c); err != nil || c.Purpose != purpose || c.Email == "" || !utf8.ValidString(c.Email) {
		return Claims{}, ErrInvalid
	}
	if !s.keys.now().Before(c.ExpiresAt()) {
		return c, ErrExpired
	}
	return c, nil
}

// open decrypts a token's bytes: a version 1 token with the key its ID names, or else
// a token from before key IDs, sealed with an accepted secret itself.
func (s *Sealer) open(raw []byte, purpose Purpose) ([]byte, bool) {
	if len(raw) > 1+keyIDBytes && raw[0] == tokenVersion {
		if ks, ok := s.keys.byID(hex.EncodeToString(raw[1 : 1+keyIDBytes])); ok {
			head, rest := raw[:1+keyIDBytes], raw[1+keyIDBytes:]
			if n := ks.links.NonceSize(); len(rest) >= n+ks.links.Overhead() {
				if plain, err := ks.links.Open(nil, rest[:n], rest[n:], append(head[:len(head):len(head)], purpose...)); err == nil {
					return plain, true
				}
			}
		}
	}
	for _, ks := range s.keys.accepted() {
		n := ks.legacy.NonceSize()
		if len(raw) < n+ks.legacy.Overhead() {
			continue
		}
		if plain, err := ks.legacy.Open(nil, raw[:n], raw[n:], []byte(purpose)); err == nil {
			return plain, true
		}
	}
	return nil, false
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
