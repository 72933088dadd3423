package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Use names what a derived key is for. Each use gets its own key, derived with HKDF
// (RFC 5869) from the one secret (LINK_KEY), so that no key serves two purposes and a
// MAC made for one use is worthless for another.
type Use string

const (
	UseLinks    Use = "peergroups/v1/link-tokens"     // AES-256-GCM key of the tokens in links
	UseSessions Use = "peergroups/v1/session-cookies" // HMAC key of session cookies
	UseCSRF     Use = "peergroups/v1/csrf-tokens"     // HMAC key of CSRF form tokens
	UseRate     Use = "peergroups/v1/rate-limits"     // HMAC key of the pseudonyms of rate-limit counters
	useKeyID    Use = "peergroups/v1/key-id"          // the secret's public name
)

// UsePeople names the HMAC key of the pseudonyms that stand for a person (the audit
// trail, an erased address's suppression, the logs), derived from PSEUDONYM_KEY, not
// from LINK_KEY.
const UsePeople Use = "peergroups/v1/person-pseudonyms"

// SecretLength is the length of the secret every key is derived from.
const SecretLength = 32

// Derive returns the 32-byte key for a use, derived from secret with HKDF-SHA256.
func Derive(secret []byte, use Use) []byte {
	key, err := hkdf.Key(sha256.New, secret, nil, string(use), 32)
	if err != nil {
		// Only a length over 255 hash sizes fails, and 32 is not.
		panic(fmt.Sprintf("hkdf: %v", err))
	}
	return key
}

// KeyIDOf returns the public name of a secret: 8 hex digits derived from it, carried by
// every token and cookie so that the keyring knows which secret made it.
func KeyIDOf(secret []byte) string {
	return hex.EncodeToString(Derive(secret, useKeyID)[:keyIDBytes])
}

const keyIDBytes = 4

// keySet is every key derived from one secret.
type keySet struct {
	id      string
	rawID   []byte
	links   cipher.AEAD
	legacy  cipher.AEAD // the secret itself as the AES key: links sealed before key IDs existed
	session []byte
	csrf    []byte
	rate    []byte
}

func newKeySet(secret []byte) (*keySet, error) {
	if len(secret) != SecretLength {
		return nil, fmt.Errorf("link key must be %d bytes, got %d", SecretLength, len(secret))
	}
	aead := func(key []byte) (cipher.AEAD, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("link key: %w", err)
		}
		return cipher.NewGCM(block)
	}
	links, err := aead(Derive(secret, UseLinks))
	if err != nil {
		return nil, err
	}
	legacy, err := aead(secret)
	if err != nil {
		return nil, err
	}
	id := KeyIDOf(secret)
	rawID, _ := hex.DecodeString(id)
	return &keySet{
		id: id, rawID: rawID, links: links, legacy: legacy,
		session: Derive(secret, UseSessions), csrf: Derive(secret, UseCSRF), rate: Derive(secret, UseRate),
	}, nil
}

// Keyring holds the keys derived from the current secret, which makes every new token,
// cookie and MAC, and from the previous secret, which still opens and checks what it
// made until its overlap ends. Rotating the secret therefore signs nobody out and breaks
// no link already sent, as long as the overlap lasts.
type Keyring struct {
	// people keys PersonPseudonym: derived from a secret that is never rotated; nil
	// until SetPseudonymKey, when the current link key's rate-limit key is used.
	people        []byte
	current       *keySet
	previous      *keySet // nil when there is none
	previousUntil time.Time
	now           func() time.Time
}

// NewKeyring returns the keyring of a current secret and, when previous is not empty,
// of the previous secret, accepted until previousUntil. now tells the time.
func NewKeyring(current, previous []byte, previousUntil time.Time, now func() time.Time) (*Keyring, error) {
	cur, err := newKeySet(current)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: cur, now: now}
	if len(previous) > 0 {
		prev, err := newKeySet(previous)
		if err != nil {
			return nil, fmt.Errorf("previous %w", err)
		}
		if prev.id == cur.id {
			return nil, fmt.Errorf("the previous link key is the current one")
		}
		k.previous, k.previousUntil = prev, previousUntil
	}
	return k, nil
}

// ID returns the key ID of the current secret: what new tokens and cookies carry.
func (k *Keyring) ID() string { return k.current.id }

// accepted returns the key sets that may open or check something now: the current
// one, then the previous one while its overlap lasts.
func (k *Keyring) accepted() []*keySet {
	if k.previous != nil && k.now().Before(k.previousUntil) {
		return []*keySet{k.current, k.previous}
	}
	return []*keySet{k.current}
}

// byID returns the accepted key set with an ID.
func (k *Keyring) byID(id string) (*keySet, bool) {
	for _, ks := range k.accepted() {
		if ks.id == id {
			return ks, true
		}
	}
	return nil, false
}

func (ks *keySet) macKey(use Use) []byte {
	switch use {
	case UseSessions:
		return ks.session
	case UseCSRF:
		return ks.csrf
	}
	panic("links: no MAC key for " + string(use))
}

func mac(key []byte, parts []string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns "<key ID>.<MAC>": an HMAC-SHA256 of parts under the current key for use.
func (k *Keyring) Sign(use Use, parts ...string) string {
	return k.current.id + "." + mac(k.current.macKey(use), parts)
}

// Verify reports whether signed is what Sign(use, parts...) gave under the current
// secret, or under the previous one while its overlap lasts.
func (k *Keyring) Verify(use Use, signed string, parts ...string) bool {
	id, sum, ok := strings.Cut(signed, ".")
	if !ok || len(signed) > 100 {
		return false
	}
	ks, ok := k.byID(id)
	if !ok {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(mac(ks.macKey(use), parts)))
}

// Pseudonym returns a keyed hash of parts that does not reveal them, for the keys of
// rate-limit counters. It uses the current key only: counters last an hour, so a
// rotation only starts them again.
func (k *Keyring) Pseudonym(parts ...string) string {
	return mac(k.current.rate, parts)
}

// MinPseudonymSecret is the length, in bytes, of the shortest secret SetPseudonymKey
// accepts.
const MinPseudonymSecret = 32

// SetPseudonymKey keys PersonPseudonym with a key derived from secret (PSEUDONYM_KEY),
// which is never rotated: a rotation of the link key then changes no person's pseudonym.
func (k *Keyring) SetPseudonymKey(secret []byte) error {
	if len(secret) < MinPseudonymSecret {
		return fmt.Errorf("pseudonym key must be at least %d bytes, got %d", MinPseudonymSecret, len(secret))
	}
	k.people = Derive(secret, UsePeople)
	return nil
}

// PersonPseudonym returns a keyed hash of parts that stands for a person where their
// address may not appear and must be recognised for years: the audit trail's names
// for them, the suppression of an erased address, the logs. Keyed by the pseudonym key
// when one is set (SetPseudonymKey), so that it stays the same when the link key is
// rotated; otherwise by the current link key, like Pseudonym.
func (k *Keyring) PersonPseudonym(parts ...string) string {
	if k.people != nil {
		return mac(k.people, parts)
	}
	return mac(k.current.rate, parts)
}
