package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// proposeWithFan stores a confirmed proposal for an area, with one person interested
// (whose invitation says when the outbox has done the approval's work), and returns
// the proposal's ID, the proposer and the person interested.
func (s *kitSite) proposeWithFan(id, area string) (string, string, string) {
	s.t.Helper()
	ctx, now := s.t.Context(), s.Clock.Now()
	proposer, fan := testenv.Address("launch-proposer"), testenv.Address("launch-fan")
	p := pg.PendingProposal{
		Proposal:  pg.Proposal{ID: id, Area: area, ProposerName: "Ada", ProposerEmail: proposer, Why: "No group here yet.", Status: pg.ProposalOpen},
		NonceHash: "n", ExpiresAt: now.Add(time.Hour),
	}
	if err := s.App.Stores.Proposals.SavePendingProposal(ctx, p, nil); err != nil {
		s.t.Fatal(err)
	}
	if err := s.App.Stores.Proposals.ConfirmProposal(ctx, p, now); err != nil {
		s.t.Fatal(err)
	}
	pi := pg.PendingInterest{ProposalID: id, Email: fan, Name: "Fan", NonceHash: "n", ExpiresAt: now.Add(time.Hour)}
	if err := s.App.Stores.Proposals.SavePendingInterest(ctx, pi, nil); err != nil {
		s.t.Fatal(err)
	}
	if err := s.App.Stores.Proposals.ConfirmInterest(ctx, pi, now); err != nil {
		s.t.Fatal(err)
	}
	return id, proposer, fan
}

// approve approves a proposal as the admin, making the group, and waits until the
// outbox has invited the person interested (the new group's kit is started first).
func (s *kitSite) approve(id, group, name, fan string) {
	s.t.Helper()
	s.as(s.admin)
	r := s.post("/admin/proposals/"+id+"/approve", url.Values{"id": {group}, "name": {name}, "regions": {"North West"}})
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("approve %s: %d\n%s", id, r.Status, r.Body)
	}
	testenv.MailEventually(s.t, fan, 1)
}

// A group launched from an approved proposal starts with its own version of the latest
// round's core kit (the latest round that has one), made once however often the
// approval's work is done; a group launched while no round has a core kit gets none.
func TestANewGroupStartsWithAVersionOfTheLatestCoreKit(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := t.Context()
	kits := s.App.Stores.Kits

	// No round has a core kit yet: the group starts with nothing.
	id, _, fan := s.proposeWithFan("north-east-proposal", "North East")
	s.approve(id, "north-east", "North East", fan)
	if _, err := kits.KitLineage(ctx, 3, "north-east"); pg.KindOf(err) != pg.KindNotFound {
		t.Fatalf("a group launched while no round has a core kit has a version of round 3's kit (%v)", err)
	}

	// Round 3 has a core kit; round 4, newer, has none.
	s.as(s.fac)
	s.createKit()
	s.addSection("Welcome", pg.AudienceParticipant, "Bring three questions.\n")
	start := time.Date(2027, 6, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, pg.Caller{Email: s.admin, Admin: true}, pg.Round{Number: 4, Title: "Next", Summary: "Later.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	core, err := kits.KitHead(ctx, 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}

	id, proposer, fan := s.proposeWithFan("north-west-proposal", "North West")
	s.approve(id, "north-west", "North West", fan)
	l, err := kits.KitLineage(ctx, 3, "north-west")
	if err != nil {
		t.Fatalf("the new group has no version of round 3's core kit: %v", err)
	}
	if l.Parent != pg.CoreKit || l.CopiedHash != core.Revision.Hash || l.BaseHash != core.Revision.Hash || l.CopiedNumber != core.Revision.Number {
		t.Errorf("lineage %+v, want copied from the core kit's revision %d (%s)", l, core.Revision.Number, core.Revision.Hash)
	}
	head, err := kits.KitHead(ctx, 3, "north-west")
	if err != nil || head.Revision.Hash != core.Revision.Hash || head.Revision.Number != 1 {
		t.Fatalf("the version's head is %+v (%v), want the core kit's document itself as revision 1", head.Revision, err)
	}
	if _, err := kits.KitLineage(ctx, 4, "north-west"); pg.KindOf(err) != pg.KindNotFound {
		t.Errorf("the group has a version of round 4, which has no core kit (%v)", err)
	}

	// The approval's work done again (a record delivered again, the invitations asked
	// for again), and the proposal approved again: still one version.
	starter := &pg.NewGroupKits{Variants: s.App.Services.KitVariants, Rounds: s.App.Stores.Rounds}
	for range 2 {
		if n, err := starter.StartGroupKit(ctx, "north-west"); err != nil || n != 3 {
			t.Fatalf("start the kit again: round %d, %v", n, err)
		}
	}
	s.as(s.admin)
	if r := s.post("/admin/proposals/"+id+"/approve", url.Values{"id": {"north-west"}, "name": {"North West"}, "regions": {"North West"}}); r.Status != http.StatusConflict {
		t.Errorf("approving again: %d, want 409", r.Status)
	}
	revs, err := kits.KitVariantRevisions(ctx, 3, "north-west")
	if err != nil || len(revs) != 1 {
		t.Fatalf("%d revisions of the new group's version (%v), want 1", len(revs), err)
	}

	// The proposer, now its facilitator, finds it with its lineage written out.
	s.as(proposer)
	r := s.get("/kits/3/groups/north-west")
	if r.Status != http.StatusOK {
		t.Fatalf("the new group's version: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Bring three questions.", "Based on the core kit for round 3, revision "+strconv.Itoa(core.Revision.Number), "From the core kit")
	s.as(s.admin)
	mustContain(t, s.get("/admin/audit").Body, "copy kit: 3 north-west", pg.LaunchActor)
}
