package dynamo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A conditional write that finds the table changed comes back as the domain's error,
// never as DynamoDB's: the web layer and the announcer decide on pg's kinds alone.
func TestConditionalWritesThatFailAreTheDomainsConflicts(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

	group := pg.Group{ID: "g-" + strings.ToLower(testenv.RandomID()), Name: "Somewhere", Regions: []string{"London"}}
	email := testenv.Address("confirm")
	signup := pg.Signup{Email: email, Profile: pg.Profile{Name: "Ada"}, Form: "join", NonceHash: "hash-1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}

	for _, tc := range []struct {
		name         string
		first, again func(context.Context) error
		want         error // a sentinel, or nil for any error of the kind
		kind         pg.Kind
	}{{
		name:  "a group whose ID is taken",
		first: func(ctx context.Context) error { return dynamo.Capabilities(st).Network.CreateGroup(ctx, group) },
		again: func(ctx context.Context) error { return dynamo.Capabilities(st).Network.CreateGroup(ctx, group) },
		kind:  pg.KindConflict,
	}, {
		name: "a round whose number is taken",
		first: func(ctx context.Context) error {
			return dynamo.Capabilities(st).Rounds.CreateRound(ctx, pg.Round{Number: 40, Title: "First", State: pg.RoundDraft}, auditBy)
		},
		again: func(ctx context.Context) error {
			return dynamo.Capabilities(st).Rounds.CreateRound(ctx, pg.Round{Number: 40, Title: "Again", State: pg.RoundDraft}, auditBy)
		},
		kind: pg.KindConflict,
	}, {
		name: "a ledger row another run claimed",
		first: func(ctx context.Context) error {
			return dynamo.Capabilities(st).Announcements.Claim(ctx, 41, batchOf("run-a", "ada@example.org"))
		},
		again: func(ctx context.Context) error {
			return dynamo.Capabilities(st).Announcements.Claim(ctx, 41, batchOf("run-b", "ada@example.org"))
		},
		want: pg.ErrClaimed,
		kind: pg.KindConflict,
	}, {
		name: "a confirmation link already followed",
		first: func(ctx context.Context) error {
			if err := dynamo.Capabilities(st).Memberships.SaveSignup(ctx, pg.Person{Email: email}, signup, nil); err != nil {
				return err
			}
			return dynamo.Capabilities(st).Memberships.ConfirmSignup(ctx, pg.Person{Email: email}, signup, at)
		},
		again: func(ctx context.Context) error {
			return dynamo.Capabilities(st).Memberships.ConfirmSignup(ctx, pg.Person{Email: email}, signup, at)
		},
		want: pg.ErrLinkUsed,
		kind: pg.KindGone,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if err := tc.first(ctx); err != nil {
				t.Fatalf("first write: %v", err)
			}
			err := tc.again(ctx)
			if err == nil {
				t.Fatal("the second write succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("the second write: %v, want %v", err, tc.want)
			}
			if pg.KindOf(err) != tc.kind {
				t.Errorf("the second write: %v, of kind %s, want %s", err, pg.KindOf(err), tc.kind)
			}
		})
	}
}
