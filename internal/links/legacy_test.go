package links

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

// Links sent before tokens carried key IDs were sealed with the secret itself; they
// keep working (unsubscribe links last a year) while their secret is accepted.
func TestALinkSealedBeforeKeyIDsStillOpens(t *testing.T) {
	secret := make([]byte, SecretLength)
	rand.Read(secret)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ring, err := NewKeyring(secret, nil, time.Time{}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(Claims{Purpose: Unsubscribe, Email: "ada@example.org", Expires: now.Add(time.Hour).Unix()})
	nonce := make([]byte, 12)
	rand.Read(nonce)
	old := base64.RawURLEncoding.EncodeToString(ring.current.legacy.Seal(nonce, nonce, plain, []byte(Unsubscribe)))

	s := NewSealer(ring, rand.Reader)
	if c, err := s.Open(old, Unsubscribe); err != nil || c.Email != "ada@example.org" {
		t.Fatalf("a link from before key IDs: %+v, %v", c, err)
	}
	if _, err := s.Open(old, Manage); err != ErrInvalid {
		t.Fatalf("a link from before key IDs opened for another purpose: %v", err)
	}
}
