package links_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSecret() []byte {
	key := make([]byte, links.SecretLength)
	rand.Read(key)
	return key
}

func newSealer(t testing.TB) (*links.Sealer, *clock) {
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	ring, err := links.NewKeyring(newSecret(), nil, time.Time{}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return links.NewSealer(ring, rand.Reader), c
}

func TestLinkTokens(t *testing.T) {
	s, c := newSealer(t)
	other, _ := newSealer(t)
	claims := links.Claims{Purpose: links.Confirm, Email: "ada@example.org", Nonce: "n1", Groups: []string{"london"}}
	tok, err := s.Seal(claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, "ada") || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is readable or not URL-safe", tok)
	}

	t.Run("a genuine token opens", func(t *testing.T) {
		got, err := s.Open(tok, links.Confirm)
		if err != nil || got.Email != claims.Email || got.Nonce != "n1" || len(got.Groups) != 1 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("a token for another purpose is refused", func(t *testing.T) {
		if _, err := s.Open(tok, links.Manage); !errors.Is(err, links.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a token sealed with another key is refused", func(t *testing.T) {
		if _, err := other.Open(tok, links.Confirm); !errors.Is(err, links.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a changed token is refused", func(t *testing.T) {
		for i := range tok {
			b := []byte(tok)
			b[i] = map[bool]byte{true: 'A', false: 'B'}[b[i] != 'A']
			if _, err := s.Open(string(b), links.Confirm); err == nil {
				t.Fatalf("changing character %d still opened", i)
			}
		}
	})
	t.Run("an expired token is refused but says who it was for", func(t *testing.T) {
		c.t = c.t.Add(time.Hour)
		got, err := s.Open(tok, links.Confirm)
		if !errors.Is(err, links.ErrExpired) || got.Email != claims.Email {
			t.Fatalf("got %+v, %v", got, err)
		}
		c.t = c.t.Add(-time.Second)
		if _, err := s.Open(tok, links.Confirm); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
	})
	t.Run("an overlong token is refused without work", func(t *testing.T) {
		if _, err := s.Open(strings.Repeat("A", links.MaxTokenLength+1), links.Confirm); !errors.Is(err, links.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestNoncesDifferAndHashesHideThem(t *testing.T) {
	s, _ := newSealer(t)
	a, _ := s.NewNonce()
	b, _ := s.NewNonce()
	if a == b || len(a) < 20 {
		t.Fatalf("nonces %q and %q", a, b)
	}
	if h := links.HashNonce(a); h == a || len(h) != 64 || h != links.HashNonce(a) {
		t.Fatalf("hash %q", h)
	}
}

// FuzzOpen feeds arbitrary strings to Open: it must never panic, and nothing but a
// token we sealed may open.
func FuzzOpen(f *testing.F) {
	s, _ := newSealer(f)
	tok, _ := s.Seal(links.Claims{Purpose: links.Manage, Email: "ada@example.org"}, time.Hour)
	f.Add(tok)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("not a token at all !*&")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := s.Open(in, links.Manage)
		if err == nil && in != tok {
			t.Fatalf("%q opened as %+v", in, c)
		}
	})
}
