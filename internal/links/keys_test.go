package links_test

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// rotation is a secret rotated at noon, the old one kept for a day.
type rotation struct {
	clock          *clock
	oldKey, newKey []byte
	before         *links.Keyring // before the rotation: the old secret alone
	after          *links.Keyring // after: the new secret, the old one until `until`
	afterAlone     *links.Keyring // after the previous secret was removed
	until          time.Time
}

func newRotation(t *testing.T) rotation {
	t.Helper()
	r := rotation{clock: &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}, oldKey: newSecret(), newKey: newSecret()}
	r.until = r.clock.t.Add(24 * time.Hour)
	var err error
	if r.before, err = links.NewKeyring(r.oldKey, nil, time.Time{}, r.clock.now); err != nil {
		t.Fatal(err)
	}
	if r.after, err = links.NewKeyring(r.newKey, r.oldKey, r.until, r.clock.now); err != nil {
		t.Fatal(err)
	}
	if r.afterAlone, err = links.NewKeyring(r.newKey, nil, time.Time{}, r.clock.now); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestALinkSentBeforeARotationOpensDuringTheOverlapOnly(t *testing.T) {
	r := newRotation(t)
	sent, err := links.NewSealer(r.before, rand.Reader).Seal(links.Claims{Purpose: links.Unsubscribe, Email: "ada@example.org"}, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sealer := links.NewSealer(r.after, rand.Reader)
	fresh, err := sealer.Seal(links.Claims{Purpose: links.Unsubscribe, Email: "bob@example.org"}, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	if links.KeyID(sent) != links.KeyIDOf(r.oldKey) || links.KeyID(fresh) != links.KeyIDOf(r.newKey) || links.KeyID(sent) == links.KeyID(fresh) {
		t.Fatalf("key IDs: the old link names %q, the new one %q; the secrets are %q (old) and %q (new)",
			links.KeyID(sent), links.KeyID(fresh), links.KeyIDOf(r.oldKey), links.KeyIDOf(r.newKey))
	}
	if r.after.ID() != links.KeyIDOf(r.newKey) {
		t.Fatalf("the keyring's current key is %s, not the new secret's", r.after.ID())
	}
	if c, err := sealer.Open(sent, links.Unsubscribe); err != nil || c.Email != "ada@example.org" {
		t.Fatalf("an old link after the rotation, previous secret configured: %+v, %v", c, err)
	}
	if c, err := sealer.Open(fresh, links.Unsubscribe); err != nil || c.Email != "bob@example.org" {
		t.Fatalf("a new link: %+v, %v", c, err)
	}
	if _, err := links.NewSealer(r.before, rand.Reader).Open(fresh, links.Unsubscribe); !errors.Is(err, links.ErrInvalid) {
		t.Fatalf("the old secret alone opened a link sealed with the new one: %v", err)
	}
	if _, err := links.NewSealer(r.afterAlone, rand.Reader).Open(sent, links.Unsubscribe); !errors.Is(err, links.ErrInvalid) {
		t.Fatalf("an old link with the previous secret removed: %v, want ErrInvalid", err)
	}
	r.clock.t = r.until
	if _, err := sealer.Open(sent, links.Unsubscribe); !errors.Is(err, links.ErrInvalid) {
		t.Fatalf("an old link after the overlap ended: %v, want ErrInvalid", err)
	}
	if _, err := sealer.Open(fresh, links.Unsubscribe); err != nil {
		t.Fatalf("a new link after the overlap ended: %v", err)
	}
}

func TestSignaturesSurviveARotationDuringTheOverlapOnly(t *testing.T) {
	r := newRotation(t)
	old := r.before.Sign(links.UseSessions, "session-id")
	if !r.after.Verify(links.UseSessions, old, "session-id") {
		t.Fatal("a session cookie signed before the rotation is refused while the previous secret is configured")
	}
	fresh := r.after.Sign(links.UseSessions, "session-id")
	if fresh == old || fresh[:8] != r.after.ID() || old[:8] != r.before.ID() {
		t.Fatalf("signatures %q (old) and %q (new) do not carry their key IDs", old, fresh)
	}
	if r.afterAlone.Verify(links.UseSessions, old, "session-id") {
		t.Fatal("a cookie signed with a removed secret is still accepted")
	}
	if r.after.Verify(links.UseCSRF, old, "session-id") || r.after.Verify(links.UseSessions, old, "another-id") {
		t.Fatal("a signature is accepted for another use or another value")
	}
	r.clock.t = r.until
	if r.after.Verify(links.UseSessions, old, "session-id") {
		t.Fatal("a cookie signed with the previous secret is accepted after the overlap ended")
	}
	if !r.after.Verify(links.UseSessions, fresh, "session-id") {
		t.Fatal("a cookie signed with the current secret is refused")
	}
}

func TestEachUseHasItsOwnKey(t *testing.T) {
	secret := newSecret()
	seen := map[string]links.Use{string(secret): "the secret itself"}
	for _, use := range []links.Use{links.UseLinks, links.UseSessions, links.UseCSRF, links.UseRate} {
		k := links.Derive(secret, use)
		if len(k) != 32 {
			t.Fatalf("%s: %d bytes", use, len(k))
		}
		if other, ok := seen[string(k)]; ok {
			t.Fatalf("%s has the same key as %s", use, other)
		}
		seen[string(k)] = use
	}
	if first, again := links.Derive(secret, links.UseLinks), links.Derive(secret, links.UseLinks); string(first) != string(again) {
		t.Fatal("derivation is not deterministic")
	}
	ring, _ := links.NewKeyring(secret, nil, time.Time{}, time.Now)
	if ring.Sign(links.UseSessions, "v") == ring.Sign(links.UseCSRF, "v") {
		t.Fatal("a session MAC and a CSRF MAC of the same value are the same")
	}
	if ring.Pseudonym("ip", "192.0.2.1") == ring.Pseudonym("ip", "192.0.2.2") || ring.Pseudonym("a", "b") == ring.Pseudonym("ab") {
		t.Fatal("pseudonyms collide")
	}
}

func TestKeyringRefusesBadSecrets(t *testing.T) {
	k := newSecret()
	if _, err := links.NewKeyring(k[:16], nil, time.Time{}, time.Now); err == nil {
		t.Error("a 16-byte secret was accepted")
	}
	if _, err := links.NewKeyring(k, k[:31], time.Now(), time.Now); err == nil {
		t.Error("a 31-byte previous secret was accepted")
	}
	if _, err := links.NewKeyring(k, k, time.Now(), time.Now); err == nil {
		t.Error("the current secret as the previous one was accepted")
	}
}

// A person's pseudonym is keyed by the pseudonym key, not the link key: a rotation of
// the link key (a new secret, the old one previous) leaves it the same. Without a
// pseudonym key it follows the link key, and changes.
func TestPersonPseudonymsOutliveARotationOfTheLinkKey(t *testing.T) {
	old, next := newSecret(), newSecret()
	before, _ := links.NewKeyring(old, nil, time.Time{}, time.Now)
	after, _ := links.NewKeyring(next, old, time.Now().Add(time.Hour), time.Now)
	if before.PersonPseudonym("erased", "ada@example.org") == after.PersonPseudonym("erased", "ada@example.org") {
		t.Fatal("without a pseudonym key, the pseudonym did not follow the link key")
	}
	stable := []byte("a-pseudonym-key-that-is-never-rotated")
	for _, ring := range []*links.Keyring{before, after} {
		if err := ring.SetPseudonymKey(stable); err != nil {
			t.Fatal(err)
		}
	}
	if before.PersonPseudonym("erased", "ada@example.org") != after.PersonPseudonym("erased", "ada@example.org") {
		t.Error("the pseudonym changed with the link key")
	}
	if after.PersonPseudonym("erased", "ada@example.org") == after.PersonPseudonym("erased", "bob@example.org") ||
		after.PersonPseudonym("erased", "ada@example.org") == after.Pseudonym("erased", "ada@example.org") {
		t.Error("pseudonyms collide, or the person's pseudonym is the rate-limit key's")
	}
	if err := after.SetPseudonymKey(stable[:31]); err == nil {
		t.Error("a 31-byte pseudonym key was accepted")
	}
}
