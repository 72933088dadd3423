package links

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestABoxOpensOnlyWhatItSealedForTheSameItem(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	box, err := NewBox(key, "outbox", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("a sign-in link"), "item-1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("sign-in")) {
		t.Fatal("the sealed data shows the plain text")
	}
	if plain, err := box.Open(sealed, "item-1"); err != nil || string(plain) != "a sign-in link" {
		t.Fatalf("open: %q %v", plain, err)
	}
	other, _ := NewBox(key, "another use", rand.Reader)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"another item":   func() ([]byte, error) { return box.Open(sealed, "item-2") },
		"another use":    func() ([]byte, error) { return other.Open(sealed, "item-1") },
		"a changed byte": func() ([]byte, error) { return box.Open(tampered, "item-1") },
		"too short":      func() ([]byte, error) { return box.Open(sealed[:10], "item-1") },
	} {
		if _, err := try(); !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: %v, want ErrUnsealable", name, err)
		}
	}
}

// An item queued just before the link key was rotated is sent just after: the new
// box opens it through the previous key's box, and seals only with its own.
func TestABoxOpensWhatThePreviousKeySealed(t *testing.T) {
	before, _ := NewBox(bytes.Repeat([]byte{1}, 32), "outbox", rand.Reader)
	after, _ := NewBox(bytes.Repeat([]byte{2}, 32), "outbox", rand.Reader)
	queued, _ := before.Seal([]byte("a welcome"), "item-1")
	if _, err := after.Open(queued, "item-1"); !errors.Is(err, ErrUnsealable) {
		t.Fatalf("without the previous key: %v, want ErrUnsealable", err)
	}
	after.Previous = before
	if plain, err := after.Open(queued, "item-1"); err != nil || string(plain) != "a welcome" {
		t.Fatalf("with the previous key: %q %v", plain, err)
	}
	fresh, _ := after.Seal([]byte("a sign-in link"), "item-2")
	if _, err := before.Open(fresh, "item-2"); !errors.Is(err, ErrUnsealable) {
		t.Fatal("a new item was sealed with the previous key")
	}
}
