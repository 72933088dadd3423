package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Box seals data kept at rest (the outbox's emails, which carry working links) with
// AES-256-GCM under a key derived from the link key for one use, so that reading the
// table gives nobody a working link.
type Box struct {
	aead cipher.AEAD
	rand io.Reader
	// Previous opens what the box of the link key before a rotation sealed (items
	// written just before the deploy that rotated it); nil for none. It never seals.
	Previous *Box
}

// ErrUnsealable means sealed data was not made by this key, or was changed.
var ErrUnsealable = errors.New("sealed data is not valid")

// NewBox returns a Box for a 32-byte link key and a use ("outbox").
func NewBox(key []byte, use string, rand io.Reader) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("link key must be 32 bytes, got %d", len(key))
	}
	derive := hmac.New(sha256.New, key)
	derive.Write([]byte("box\x00" + use))
	block, err := aes.NewCipher(derive.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("box key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("box key: %w", err)
	}
	return &Box{aead: aead, rand: rand}, nil
}

// Seal returns plain sealed and bound to context (an item's ID): sealed data opens
// only with the same context.
func (b *Box) Seal(plain []byte, context string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := io.ReadFull(b.rand, nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(context)), nil
}

// Open returns what Seal sealed with the same context, or ErrUnsealable.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	if len(sealed) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, ErrUnsealable
	}
	plain, err := b.aead.Open(nil, sealed[:b.aead.NonceSize()], sealed[b.aead.NonceSize():], []byte(context))
	if err != nil {
		if b.Previous != nil {
			return b.Previous.Open(sealed, context)
		}
		return nil, ErrUnsealable
	}
	return plain, nil
}
