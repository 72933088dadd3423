package peergroups_test

import (
	"context"
	"errors"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// fixedGroups is the network's groups, read by the other capabilities.
type fixedGroups []pg.Group

func (g fixedGroups) Groups(context.Context) ([]pg.Group, error) { return g, nil }
func (g fixedGroups) Group(_ context.Context, id string) (pg.Group, error) {
	if found, ok := pg.FindGroup(g, id); ok {
		return found, nil
	}
	return pg.Group{}, pg.Errorf(pg.KindNotFound, "no group %s", id)
}

// A caller that skips the web's decoders cannot store what the forms would refuse: each
// service checks what it is given before it asks its store (none here: a service that
// asked would fail on the missing store), and says which field is wrong.
func TestServicesRefuseWhatTheirFormsWouldRefuse(t *testing.T) {
	ctx := context.Background()
	env := pg.Env{Now: func() time.Time { return time.Date(2026, 11, 2, 9, 0, 0, 0, pg.London) }}
	admin := pg.Caller{Email: "admin@example.org", Admin: true}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, pg.London)
	for _, c := range []struct {
		name, field string
		do          func() error
	}{
		{"a sign-up with a name on two lines", "name", func() error {
			s := &pg.Memberships{Env: env, Network: fixedGroups(testGroups), Councils: testCouncils}
			return s.Join(ctx, pg.SignupForm{Name: "Ada\nBcc: x", Email: "ada@example.org", Council: "BIR", Groups: []string{"midlands"}}, "192.0.2.1")
		}},
		{"a sign-up for a paused group", "groups", func() error {
			s := &pg.Memberships{Env: env, Network: fixedGroups(testGroups), Councils: testCouncils}
			return s.Join(ctx, pg.SignupForm{Name: "Ada", Email: "ada@example.org", Council: "BIR", Groups: []string{"closed"}}, "192.0.2.1")
		}},
		{"a manage link for no address", "email", func() error {
			return (&pg.Memberships{Env: env}).SendManageLink(ctx, "not an address", "192.0.2.1")
		}},
		{"a sign-in link for no address", "email", func() error {
			return (&pg.Access{Env: env}).RequestSignIn(ctx, "ada@", "192.0.2.1")
		}},
		{"a council sign-up for no council", "council", func() error {
			return (&pg.Register{Env: env, Councils: testCouncils}).RequestRegistration(ctx, pg.RegisterForm{Council: "XYZ", Name: "Ada", Email: "ada@example.org", Role: "Head"}, "192.0.2.1")
		}},
		{"a council withdrawn with no reason", "reason", func() error {
			return (&pg.Register{Env: env}).WithdrawRegistration(ctx, admin, "BIR", "")
		}},
		{"a proposal with a link in its area", "area", func() error {
			return (&pg.Proposals{Env: env}).RequestProposal(ctx, pg.ProposalForm{Area: "evil.example.com", Name: "Ada", Email: "ada@example.org", Why: "Because."}, "192.0.2.1")
		}},
		{"interest with no name", "name", func() error {
			return (&pg.Proposals{Env: env}).RequestInterest(ctx, "p1", "", "ada@example.org", "192.0.2.1")
		}},
		{"a group with a web address of capitals", "id", func() error {
			return (&pg.Network{Env: env, Councils: testCouncils}).CreateGroup(ctx, admin, pg.Group{ID: "North West", Name: "North West", Regions: []string{"North West"}})
		}},
		{"a group in no region", "regions", func() error {
			return (&pg.Network{Env: env, Councils: testCouncils}).CreateGroup(ctx, admin, pg.Group{ID: "nowhere", Name: "Nowhere"})
		}},
		{"a facilitator's edit with a bad contact address", "contact", func() error {
			return (&pg.Network{Env: env}).UpdateGroup(ctx, pg.Caller{Email: "fac@example.org", Facilitates: []string{"london"}}, pg.Group{ID: "london", Contact: "not an address"}, pg.PublicGroupFields)
		}},
		{"a round that ends before it starts", "end-day", func() error {
			return (&pg.Rounds{Env: env}).CreateRound(ctx, admin, pg.Round{Number: 1, Title: "T", Summary: "S", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, -1)})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			var fields pg.FieldErrors
			if pg.KindOf(err) != pg.KindInvalid || !errors.As(err, &fields) || fields.For(c.field) == "" || pg.MessageOf(err) != fields[0].Message {
				t.Fatalf("got %v, want the %s refused", err, c.field)
			}
		})
	}
}

func TestAnEventIsCheckedAgainstItsRoundsPeriodInLondon(t *testing.T) {
	r := pg.Round{Number: 1, PeriodStart: time.Date(2027, 7, 1, 0, 0, 0, 0, pg.London), PeriodEnd: time.Date(2027, 7, 31, 0, 0, 0, 0, pg.London)}
	// 00:30 on 1 July in London is 23:30 on 30 June in UTC: still the first day.
	first := time.Date(2027, 7, 1, 0, 30, 0, 0, pg.London)
	ok := pg.Event{Round: 1, GroupID: "london", Start: first, End: first.Add(time.Hour), Venue: "Hall", Capacity: 10}
	if errs := pg.ValidateEvent(ok, r); len(errs) > 0 {
		t.Fatalf("an event on the first day: %v", errs)
	}
	late := ok
	late.Start, late.End = time.Date(2027, 8, 1, 14, 0, 0, 0, pg.London), time.Date(2027, 8, 1, 15, 0, 0, 0, pg.London)
	if got := pg.ValidateEvent(late, r).For("date-day"); got != "The date must be between 1 July 2027 and 31 July 2027" {
		t.Fatalf("an event after the period: %q", got)
	}
}
