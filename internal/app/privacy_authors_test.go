package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// authoringSite is a kit site (round 3, a London facilitator) whose receiving bucket is
// its own, so that a test can read every object of every bucket.
func authoringSite(t *testing.T) *kitSite {
	t.Helper()
	admin := testenv.Address("au-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "RECEIVING_BUCKET": testenv.Bucket(t, s3exports.NewClient(testenv.AWSConfig(t)))})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 3, Title: "User research", Summary: "Doing it well.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("au-fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	k := &kitSite{site: s, admin: admin, fac: fac}
	k.as(fac)
	return k
}

// authoredWork is what a London facilitator did on an authoringSite: core kit
// revisions, London's variant copied and changed, a merge brought in and another left
// open, a suggestion made (declined by the Midlands' facilitator) and one decided
// (the Midlands'), and a reply in London's inbox.
type authoredWork struct {
	s      *kitSite
	midFac string
	ref    string // the conversation they replied in
}

var suggestionIDs = regexp.MustCompile(`action="/kits/3/suggestions/([0-9a-z-]+)/accept"`)

func facilitatorsWork(t *testing.T) authoredWork {
	t.Helper()
	s := authoringSite(t)
	ctx := context.Background()
	midFac := testenv.Address("au-mid")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	// Core kit revisions, London's variant, a change to it, suggested.
	s.createKit()
	welcome := s.addSection("Welcome", pg.AudienceParticipant, "Welcome.\n\nWe start at ten.\n")
	closing := s.addSection("Closing", pg.AudienceParticipant, "Thanks.\n")
	s.takeKit("london", pg.CoreKit)
	s.editVariant("london", welcome, "Welcome", "Welcome to London.\n\nWe start at ten.\n")
	s.suggest(welcome)
	// The Midlands suggest a change of theirs; London's facilitator accepts it.
	s.as(midFac)
	s.takeKit("midlands", pg.CoreKit)
	s.editVariant("midlands", closing, "Closing", "Thanks for coming to Derby.\n")
	if r := s.post("/kits/3/groups/midlands/sections/"+closing+"/suggest", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("the Midlands suggest: %d\n%s", r.Status, r.Body)
	}
	s.as(s.fac)
	var london, midlands string
	for _, m := range suggestionIDs.FindAllStringSubmatch(s.get("/kits/3/suggestions").Body, -1) {
		sg, err := s.App.Stores.Kits.KitSuggestion(ctx, 3, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if sg.Group == "london" {
			london = m[1]
		} else {
			midlands = m[1]
		}
	}
	if london == "" || midlands == "" {
		t.Fatalf("want London's and the Midlands' suggestions: %q %q", london, midlands)
	}
	if r := s.post("/kits/3/suggestions/"+midlands+"/accept", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("accept the Midlands' suggestion: %d\n%s", r.Status, r.Body)
	}
	// London brings the core kit's change in (a merge revision).
	r := s.get("/kits/3/groups/london/merge")
	if r := s.post("/kits/3/groups/london/merge", readMergeForm(t, r).values("finish", nil)); r.Status != http.StatusSeeOther {
		t.Fatalf("bring the core kit in: %d\n%s", r.Status, r.Body)
	}
	// The Midlands decline London's suggestion, and change the core kit again: London's
	// facilitator opens the merge and leaves it (a merge in progress they started).
	s.as(midFac)
	if r := s.post("/kits/3/suggestions/"+london+"/decline", url.Values{"reason": {"We like ours."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("decline London's suggestion: %d\n%s", r.Status, r.Body)
	}
	s.editCore(closing, "Closing", "Thanks, all.\n")
	s.as(s.fac)
	mustContain(t, s.get("/kits/3/groups/london/merge").Body, "None of the changes clashes")
	if _, err := s.App.Stores.Kits.KitMerge(ctx, 3, "london"); err != nil {
		t.Fatalf("no merge in progress: %v", err)
	}

	// London's contact address is theirs.
	as := pg.Caller{Email: s.fac, Facilitates: []string{"london"}}
	g, err := s.App.Services.Network.GroupForEdit(ctx, as, "london")
	if err != nil {
		t.Fatal(err)
	}
	g.Contact = s.fac
	if err := s.App.Services.Network.UpdateGroup(ctx, as, g, pg.PublicGroupFields); err != nil {
		t.Fatal(err)
	}
	if g, err := s.App.Stores.Network.Group(ctx, "london"); err != nil || g.Contact != s.fac {
		t.Fatalf("London's contact: %+v %v", g, err)
	}

	// A reply in London's inbox.
	ms := mailSiteOn(s.site, s.admin)
	c := ms.receive(simple(testenv.Address("au-asker"), "Venue in London", "Is it step-free?"), "ses-au-"+testenv.RandomID(), "london@"+groupsDomain).Conversation
	f := s.site.as(s.fac)
	page := f.get("/admin/inbox/" + c.Ref)
	if r := f.post("/admin/inbox/"+c.Ref+"/reply", url.Values{"version": {versionOn(t, page.Body)}, "reply": {"Yes, it is."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, f.get("/admin/inbox/"+c.Ref).Body, "Our reply, by "+s.fac)
	if left := remains(t, s.site, s.fac); len(left) < 8 {
		t.Fatalf("the facilitator's work holds their address in %d items, want their revisions, suggestions, merge and reply:\n%v", len(left), left)
	}
	return authoredWork{s: s, midFac: midFac, ref: c.Ref}
}

// checkFormer checks that nothing holds the erased address any more, and that their
// work is still there, naming them as who.
func (w authoredWork) checkFormer(t *testing.T, email, who string) {
	t.Helper()
	s := w.s
	if left := remains(t, s.site, email); len(left) != 0 {
		t.Errorf("after erasure the tables still mention %s:\n%v", email, left)
	}
	if left := bucketsMention(t, s.site, email); len(left) != 0 {
		t.Errorf("after erasure the buckets still mention %s: %v", email, left)
	}
	ctx := context.Background()
	s.as(w.midFac)
	revs, err := s.App.Stores.Kits.KitRevisions(ctx, 3, pg.CoreKit)
	if err != nil || len(revs) < 5 {
		t.Fatalf("the core kit's history after erasure: %d revisions, %v", len(revs), err)
	}
	mustContain(t, s.get("/kits/3/history").Body, who, "Added Welcome")
	mustContain(t, s.get(comparePath(revs[len(revs)-1].Hash, revs[len(revs)-2].Hash)).Body, "saved by "+who)
	mustContain(t, s.get("/kits/3/groups/midlands").Body, "taken into revision", "of the core kit by "+who)
	if sgs, err := s.App.Stores.Kits.KitSuggestions(ctx, 3); err != nil || len(sgs) != 2 {
		t.Errorf("the suggestions after erasure: %d %v", len(sgs), err)
	}
	s.as(s.admin)
	mustContain(t, s.get("/kits/3/groups/london/history").Body, who, "Copied from the core kit")
	mustContain(t, s.get("/kits/3/groups/london").Body, "suggested by "+who, "declined by "+w.midFac)
	if z := s.download("/kits/3/download"); !strings.Contains(z.files["ATTRIBUTION.txt"], "- "+who+"\n") {
		t.Errorf("the kit's download does not name %q among its authors:\n%s", who, z.files["ATTRIBUTION.txt"])
	}
	conv := s.site.as(s.admin).get("/admin/inbox/" + w.ref)
	mustContain(t, conv.Body, "Our reply, by "+who, "Yes, it is.", "Is it step-free?")
	// London has no contact address now (theirs was), and is otherwise as it was.
	if g, err := s.App.Stores.Network.Group(ctx, "london"); err != nil || g.Contact != "" || g.Name != "London" {
		t.Errorf("London after its contact was erased: %+v %v", g, err)
	}
}

// A facilitator who saved the core kit, copied and merged London's version, made and
// decided suggestions and replied in London's inbox erases their data by their own
// link: their address is nowhere (tables, audit table, buckets), and their work is
// all there, by "a former facilitator".
func TestAnErasedFacilitatorsWorkStaysWithoutTheirAddress(t *testing.T) {
	t.Parallel()
	w := facilitatorsWork(t)
	s := w.s
	manage, err := s.App.Services.Rounds.Links.Seal(links.Claims{Purpose: links.Manage, Email: s.fac}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	askFor(t, s.site, manage, "erase")
	link := testenv.Link(t, testenv.LastMail(t, s.fac).Body.Text, "/privacy/erase")
	if r := s.post("/privacy/erase", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Your data has been deleted") {
		t.Fatalf("erase: %d\n%s", r.Status, r.Body)
	}
	w.checkFormer(t, s.fac, pg.FormerFacilitator)
}

// The same, erased by an admin on a data-protection request; their export, before,
// lists what they wrote and did, with its round and group.
func TestAFacilitatorsExportListsTheirWorkAndAnAdminErasesIt(t *testing.T) {
	t.Parallel()
	w := facilitatorsWork(t)
	s := w.s
	admin := s.site.as(s.admin)
	r := admin.post("/admin/privacy/export", url.Values{"email": {s.fac}})
	var data struct {
		Authored []map[string]any `json:"authored"`
	}
	if err := json.Unmarshal([]byte(r.Body), &data); err != nil {
		t.Fatalf("export: %d %v\n%s", r.Status, err, r.Body)
	}
	count := map[string]int{}
	for _, a := range data.Authored {
		label := fmt.Sprint(a["what"]) + " "
		if kit, ok := a["kit"].(string); ok {
			label += kit
		} else {
			label += fmt.Sprint(a["group"])
		}
		count[label]++
		if a["what"] != pg.AuthoredReply && a["round"] != float64(3) {
			t.Errorf("authored without its round: %v", a)
		}
		if a["what"] == pg.AuthoredReply && (a["ref"] != w.ref || a["group"] != "london") {
			t.Errorf("their reply, without its conversation and group: %v", a)
		}
		if _, ok := a["pk"]; ok {
			t.Errorf("the export carries the table's keys: %v", a)
		}
	}
	for what, want := range map[string]int{
		pg.AuthoredKitRevision + " core":   4, // created, two sections, the Midlands' suggestion taken in
		pg.AuthoredKitRevision + " london": 3, pg.AuthoredKitCopy + " london": 1, pg.AuthoredKitMerge + " london": 1,
		pg.AuthoredSuggestion + " london": 1, pg.AuthoredDecision + " midlands": 1, pg.AuthoredReply + " london": 1,
	} {
		if count[what] != want {
			t.Errorf("export lists %d of %q, want %d: %v", count[what], what, want, count)
		}
	}
	if r := admin.post("/admin/privacy/erase", url.Values{"email": {s.fac}}); r.Status != http.StatusOK {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	w.checkFormer(t, s.fac, pg.FormerFacilitator)
}

// An appointed admin who appointed a facilitator, approved a proposed group, saved the
// core kit, declined a suggestion and replied to the admins' mail is erased on a
// data-protection request: their address is nowhere, and their work says "a former
// admin".
func TestAnErasedAdminsApprovalsStayWithoutTheirAddress(t *testing.T) {
	t.Parallel()
	s := authoringSite(t)
	ctx := context.Background()
	second := testenv.Address("au-second-admin")
	if err := s.App.Services.Network.SetAdmin(ctx, pg.Caller{Email: s.admin, Admin: true}, second, true); err != nil {
		t.Fatal(err)
	}
	by := pg.Caller{Email: second, Admin: true}
	midFac := testenv.Address("au-mid")
	if err := s.App.Services.Network.AppointFacilitator(ctx, by, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	// A proposed group, approved by them: its proposer becomes its facilitator.
	proposer := testenv.Address("au-proposer")
	s.post("/proposals/new", url.Values{"area": {"North West"}, "name": {"Grace Hopper"}, "email": {proposer}, "why": {"No group covers Manchester."}})
	if r := s.post("/proposals/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, proposer).Body.Text, "/proposals/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("confirm proposal: %d\n%s", r.Status, r.Body)
	}
	props, err := s.App.Services.Proposals.OpenProposals(ctx)
	if err != nil || len(props) != 1 {
		t.Fatalf("proposals: %+v %v", props, err)
	}
	if _, err := s.App.Services.Proposals.ApproveProposal(ctx, by, props[0].ID, pg.Group{ID: "north-west", Name: "North West", Regions: []string{"North West"}, Description: "Manchester and around."}); err != nil {
		t.Fatal(err)
	}
	// The kit: London's facilitator writes and suggests; the admin saves and declines.
	s.createKit()
	welcome := s.addSection("Welcome", pg.AudienceParticipant, "Welcome.\n")
	s.takeKit("london", pg.CoreKit)
	s.editVariant("london", welcome, "Welcome", "Welcome to London.\n")
	s.suggest(welcome)
	s.as(second)
	s.addSection("Closing", pg.AudienceParticipant, "Thanks.\n")
	ids := s.openSuggestions()
	if len(ids) != 1 {
		t.Fatalf("suggestions: %v", ids)
	}
	if r := s.post("/kits/3/suggestions/"+ids[0]+"/decline", url.Values{"reason": {"Not now."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("decline: %d\n%s", r.Status, r.Body)
	}
	// A reply to the admins' mail.
	ms := mailSiteOn(s.site, s.admin)
	c := ms.receive(simple(testenv.Address("au-asker"), "A question", "Who runs this?"), "ses-au-"+testenv.RandomID()).Conversation
	a := s.site.as(second)
	page := a.get("/admin/inbox/" + c.Ref)
	if r := a.post("/admin/inbox/"+c.Ref+"/reply", url.Values{"version": {versionOn(t, page.Body)}, "reply": {"We do."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s.site, second); len(left) < 5 {
		t.Fatalf("the admin's work holds their address in %d items:\n%v", len(left), left)
	}

	root := s.site.as(s.admin)
	if r := root.post("/admin/privacy/erase", url.Values{"email": {second}}); r.Status != http.StatusOK {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s.site, second); len(left) != 0 {
		t.Errorf("after erasure the tables still mention the admin:\n%v", left)
	}
	if left := bucketsMention(t, s.site, second); len(left) != 0 {
		t.Errorf("after erasure the buckets still mention the admin: %v", left)
	}
	s.as(s.admin)
	mustContain(t, s.get("/kits/3/history").Body, pg.FormerAdmin, "Added Closing")
	mustContain(t, s.get("/kits/3/groups/london").Body, "declined by "+pg.FormerAdmin, "Not now.")
	mustContain(t, root.get("/admin/inbox/"+c.Ref).Body, "Our reply, by "+pg.FormerAdmin, "We do.")
	// The facilitators they appointed are still facilitators.
	for group, fac := range map[string]string{"midlands": midFac, "north-west": proposer} {
		holders, err := s.App.Stores.Network.RoleHolders(ctx, pg.RoleFacilitator, group)
		if err != nil || len(holders) != 1 || holders[0] != fac {
			t.Errorf("%s's facilitators after the admin who appointed them was erased: %v %v", group, holders, err)
		}
	}
}

// Items written before the authors' index existed (a kit revision, a suggestion, a
// merge, a reply) are listed by the backfill, once, and an erasure then finds them.
func TestTheAuthorsBackfillListsOlderItemsForErasure(t *testing.T) {
	t.Parallel()
	s := authoringSite(t)
	ctx := context.Background()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	old := testenv.Address("au-old")
	put := func(item map[string]types.AttributeValue) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	at := s.Clock.Now().UTC().Format(time.RFC3339Nano)
	// As the stores wrote them before: no index item beside them.
	put(map[string]types.AttributeValue{"pk": str("KIT#0003#core"), "sk": str("HEAD"), "number": num("1"), "hash": str(strings.Repeat("a", 64)), "parent": str(""), "author": str(old), "at": str(at), "note": str("Created the kit")})
	put(map[string]types.AttributeValue{"pk": str("KIT#0003#core"), "sk": str("REV#000001"), "number": num("1"), "hash": str(strings.Repeat("a", 64)), "parent": str(""), "author": str(old), "at": str(at), "note": str("Created the kit")})
	put(map[string]types.AttributeValue{"pk": str("KIT#0003#core"), "sk": str("SUGGEST#0001"), "id": str("0001"), "group": str("london"), "by": str(strings.ToUpper(old)), "at": str(at), "status": str(pg.SuggestionDeclined), "decidedBy": str(old)})
	put(map[string]types.AttributeValue{"pk": str("KITS#0003"), "sk": str("LINEAGE#london"), "kit": str("london"), "parent": str("core"), "copiedBy": str(old), "copiedAt": str(at)})
	put(map[string]types.AttributeValue{"pk": str("KIT#0003#london"), "sk": str("MERGE"), "ours": str("x"), "theirs": str("y"), "startedBy": str(old), "startedAt": str(at)})
	put(map[string]types.AttributeValue{"pk": str("CONV#PG-OLD1"), "sk": str("MSG#20260101T000000.000Z#reply-1"), "id": str("reply-1"), "by": str(old), "from": str(old), "fromName": str("Old Facilitator"), "text": str("Thanks.")})
	if left := remains(t, s.site, old); len(left) != 6 {
		t.Fatalf("want the 6 older items: %v", left)
	}

	first, err := s.App.Stores.Privacy.BackfillAuthors(ctx, db.Scan, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if first.Listed != 6 || first.More {
		t.Errorf("the backfill: %+v, want the 6 older items listed", first)
	}
	again, err := s.App.Stores.Privacy.BackfillAuthors(ctx, db.Scan, 1000)
	if err != nil || again.Listed != 0 {
		t.Errorf("the backfill run again: %+v %v, want nothing more listed", again, err)
	}
	if r := s.site.as(s.admin).post("/admin/privacy/erase", url.Values{"email": {old}}); r.Status != http.StatusOK {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s.site, old); len(left) != 0 {
		t.Errorf("after erasure the tables still mention the older items' author:\n%v", left)
	}
	head, err := s.App.Services.Kits.Store.KitHead(ctx, 3, pg.CoreKit)
	if err != nil || head.Revision.Author != pg.FormerFacilitator || head.Revision.Note != "Created the kit" {
		t.Errorf("the older head after erasure: %+v %v", head.Revision, err)
	}
}

// Someone erased before what they wrote was listed under them kept their address in
// it (the erasure of the time did not look there): the backfill recognises them by the
// hash their erasure left and does what an erasure now does.
func TestTheAuthorsBackfillForgetsAuthorsErasedBeforeTheIndex(t *testing.T) {
	t.Parallel()
	s := authoringSite(t)
	ctx := context.Background()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	gone, kept := testenv.Address("au-gone"), testenv.Address("au-kept")
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	at := s.Clock.Now().UTC().Format(time.RFC3339Nano)
	for _, item := range []map[string]types.AttributeValue{
		{"pk": str("KIT#0004#core"), "sk": str("REV#000001"), "number": num("1"), "hash": str(strings.Repeat("b", 64)), "parent": str(""), "author": str(gone), "at": str(at), "note": str("First")},
		{"pk": str("KIT#0004#core"), "sk": str("SUGGEST#0002"), "id": str("0002"), "group": str("leeds"), "by": str(kept), "at": str(at), "status": str(pg.SuggestionDeclined), "decidedBy": str(gone)},
	} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	// Erased now, before the backfill: nothing lists those items under them yet, so
	// their address stays there, as the older erasure left it.
	if r := s.site.as(s.admin).post("/admin/privacy/erase", url.Values{"email": {gone}}); r.Status != http.StatusOK {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s.site, gone); len(left) != 2 {
		t.Fatalf("want the 2 older items still naming the erased author: %v", left)
	}

	r, err := s.App.Stores.Privacy.BackfillAuthors(ctx, db.Scan, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if r.Erased != 1 {
		t.Errorf("the backfill: %+v, want the one erased author forgotten", r)
	}
	if left := remains(t, s.site, gone); len(left) != 0 {
		t.Errorf("after the backfill the tables still mention the erased author:\n%v", left)
	}
	if left := remains(t, s.site, kept); len(left) == 0 {
		t.Errorf("the backfill forgot an author who was never erased")
	}
}
