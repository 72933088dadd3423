package app_test

import (
	"context"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// person reads everything stored about an address, failing the test when the store
// cannot answer: a check that nothing was stored must not pass because the read failed.
func (s *site) person(email string) pg.Person {
	s.t.Helper()
	p, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil {
		s.t.Fatalf("read %s from the store: %v", email, err)
	}
	return p
}

// publication reads a round's publication, failing the test when the store cannot
// answer.
func (s *site) publication(round int) pg.Publication {
	s.t.Helper()
	pub, err := s.App.Stores.Rounds.Publication(context.Background(), round)
	if err != nil {
		s.t.Fatalf("read the publication of round %d: %v", round, err)
	}
	return pub
}
