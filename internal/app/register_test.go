package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

func registerForm(email string) url.Values {
	return url.Values{"council": {"LDS"}, "name": {"Grace Hopper"}, "email": {email}, "role": {"Head of Digital"}}
}

func TestACouncilSignsUpOnceAndASecondContactJoinsTheEntry(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	first, second, third := testenv.Address("first"), testenv.Address("second"), testenv.Address("third")

	bad := s.post("/councils/sign-up", url.Values{"council": {"NARNIA"}, "email": {"x"}})
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("bad form: %d", bad.Status)
	}
	mustContain(t, bad.Body, "Select your council from the list", "Enter your full name", "Enter an email address in the correct format", "Enter your role at the council")

	if r := s.post("/councils/sign-up", registerForm(first)); r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
		t.Fatalf("sign up: %d\n%s", r.Status, r.Body)
	}
	if strings.Contains(s.get("/councils").Body, "Leeds City Council") {
		t.Fatal("the council is on the register before confirming")
	}
	link := testenv.Link(t, testenv.LastMail(t, first).Body.Text, "/councils/confirm")
	if r := s.get(link); r.Status != http.StatusOK || !strings.Contains(r.Body, "Leeds City Council") {
		t.Fatalf("confirm page: %d", r.Status)
	}
	confirmed := s.post("/councils/confirm", url.Values{"token": {tokenOf(t, link)}})
	if confirmed.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", confirmed.Status, confirmed.Body)
	}
	mustContain(t, confirmed.Body, "The network’s admins will check the sign-up")
	if r := s.post("/councils/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusGone {
		t.Fatalf("confirming twice: %d, want 410", r.Status)
	}
	if strings.Contains(s.get("/councils").Body, "Leeds City Council") {
		t.Fatal("a confirmed sign-up is on the public register before an admin approved it")
	}

	// An admin approves it from the queue.
	s.signIn(admin)
	queue := s.get("/admin/councils")
	mustContain(t, queue.Body, "Waiting for approval", "Leeds City Council", `href="/admin/councils/LDS"`)
	mustContain(t, s.get("/admin/councils/LDS").Body, "Waiting for approval", first, "Head of Digital", "Put Leeds City Council on the public register", "Decline Leeds City Council")
	if r := s.post("/admin/councils/LDS/list", url.Values{}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/councils?done=listed" {
		t.Fatalf("approve: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, s.get("/admin/councils?done=listed").Body, "The council is now on the public register", "No sign-up is waiting for approval")
	if r := s.post("/admin/councils/LDS/list", url.Values{}); r.Status != http.StatusConflict {
		t.Fatalf("approving twice: %d, want 409", r.Status)
	}
	register := s.get("/councils")
	mustContain(t, register.Body, "Yorkshire and The Humber", "Leeds City Council", s.Clock.Now().Format("2 January 2006"))

	s.post("/councils/sign-up", registerForm(second))
	s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, second).Body.Text, "/councils/confirm"))}})
	if n := strings.Count(s.get("/councils").Body, "Leeds City Council"); n != 1 {
		t.Fatalf("Leeds is on the register %d times, want once", n)
	}

	entry := s.get("/admin/councils/LDS")
	mustContain(t, entry.Body, first, second, "Head of Digital")
	if r := s.post("/admin/councils/LDS/withdraw", url.Values{}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Enter the reason") {
		t.Fatalf("withdraw without a reason: %d", r.Status)
	}
	if r := s.post("/admin/councils/LDS/withdraw", url.Values{"reason": {"Signed up by mistake"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d\n%s", r.Status, r.Body)
	}
	if strings.Contains(s.get("/councils").Body, "Leeds City Council") {
		t.Fatal("a withdrawn council is still on the public register")
	}

	// A withdrawal sticks: a later confirmation by another contact adds the contact,
	// and neither lists the council again nor erases the reason.
	s.post("/councils/sign-up", registerForm(third))
	if r := s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, third).Body.Text, "/councils/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("a third contact confirms: %d\n%s", r.Status, r.Body)
	}
	if strings.Contains(s.get("/councils").Body, "Leeds City Council") {
		t.Fatal("a later confirmation put a withdrawn council back on the public register")
	}
	mustContain(t, s.get("/admin/councils/LDS").Body, third, "Withdrawn from the public register", "Signed up by mistake", "Put Leeds City Council on the public register")

	// Only an admin lists it again.
	if r := s.post("/admin/councils/LDS/list", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("list again: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, s.get("/councils").Body, "Leeds City Council")
	audit := s.get("/admin/audit").Body
	mustContain(t, audit, "withdraw council: LDS", "Signed up by mistake")
	if n := strings.Count(audit, "list council: LDS"); n != 2 {
		t.Errorf("the audit trail has %d listings of LDS, want 2", n)
	}
}

// A sign-up an admin declines never reaches the public register, whoever confirms
// after, and the decline is in the audit trail.
func TestADeclinedCouncilStaysOffThePublicRegister(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	prankster, later := testenv.Address("prankster"), testenv.Address("later")
	s.post("/councils/sign-up", registerForm(prankster))
	s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, prankster).Body.Text, "/councils/confirm"))}})

	s.signIn(admin)
	if r := s.post("/admin/councils/LDS/decline", url.Values{"reason": {""}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Enter the reason") {
		t.Fatalf("decline without a reason: %d", r.Status)
	}
	if r := s.post("/admin/councils/LDS/withdraw", url.Values{"reason": {"Not listed"}}); r.Status != http.StatusConflict {
		t.Fatalf("withdrawing a council not on the register: %d, want 409", r.Status)
	}
	if r := s.post("/admin/councils/LDS/decline", url.Values{"reason": {"Nobody at Leeds knows this person"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/councils?done=declined" {
		t.Fatalf("decline: %d\n%s", r.Status, r.Body)
	}
	s.post("/councils/sign-up", registerForm(later))
	s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, later).Body.Text, "/councils/confirm"))}})
	if strings.Contains(s.get("/councils").Body, "Leeds City Council") {
		t.Fatal("a declined council is on the public register")
	}
	mustContain(t, s.get("/admin/councils").Body, "No sign-up is waiting for approval", "Declined")
	mustContain(t, s.get("/admin/councils/LDS").Body, "Nobody at Leeds knows this person", later)
	mustContain(t, s.get("/admin/audit").Body, "decline council: LDS", "Nobody at Leeds knows this person")
}

func TestAProposalGoesFromTheFormToAGroupWithInvitations(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	proposer, fan, other := testenv.Address("proposer"), testenv.Address("fan"), testenv.Address("other")

	bad := s.post("/proposals/new", url.Values{"area": {"North\nWest"}, "why": {strings.Repeat("x", 2001)}})
	mustContain(t, bad.Body, "Area must be on one line", "Enter your full name", "Why must be 2000 characters or fewer")

	s.post("/proposals/new", url.Values{"area": {"North West"}, "name": {"Alan <b>Turing</b>"}, "email": {proposer}, "why": {"No group covers Manchester."}})
	link := testenv.Link(t, testenv.LastMail(t, proposer).Body.Text, "/proposals/confirm")
	if strings.Contains(s.get("/proposals").Body, "North West") {
		t.Fatal("an unconfirmed proposal is published")
	}
	if r := s.post("/proposals/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm proposal: %d\n%s", r.Status, r.Body)
	}
	props, _ := s.App.Services.Proposals.OpenProposals(t.Context())
	if len(props) != 1 || props[0].Interested != 1 {
		t.Fatalf("proposals: %+v", props)
	}
	id := props[0].ID

	// Nothing of it is public until an admin lists it.
	if strings.Contains(s.get("/proposals").Body, "North West") {
		t.Fatal("a proposal is listed publicly before an admin approved it for listing")
	}
	if r := s.get("/proposals/" + id); r.Status != http.StatusNotFound || strings.Contains(r.Body, "Manchester") {
		t.Fatalf("an unlisted proposal's page: %d", r.Status)
	}
	if r := s.post("/proposals/"+id+"/interest", url.Values{"name": {"Fan"}, "email": {fan}}); r.Status != http.StatusNotFound || len(testenv.Mail(t, fan)) != 0 {
		t.Fatalf("interest in an unlisted proposal: %d", r.Status)
	}
	if r := s.post("/admin/proposals/"+id+"/list", url.Values{}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/sign-in" {
		t.Fatalf("listing without signing in: %d %s", r.Status, r.Header.Get("Location"))
	}
	s.signIn(admin)
	mustContain(t, s.get("/admin/proposals").Body, "North West", "Waiting to be listed")
	mustContain(t, s.get("/admin/proposals/"+id).Body, "List it publicly")
	listed := s.post("/admin/proposals/"+id+"/list", url.Values{})
	if listed.Status != http.StatusSeeOther {
		t.Fatalf("list: %d\n%s", listed.Status, listed.Body)
	}
	mustContain(t, s.get(listed.Header.Get("Location")).Body, "The proposal is now listed publicly")
	if r := s.post("/admin/proposals/"+id+"/list", url.Values{}); r.Status != http.StatusConflict {
		t.Fatalf("listing twice: %d, want 409", r.Status)
	}
	mustContain(t, s.get("/admin/audit").Body, "list proposal: "+id)

	list := s.get("/proposals")
	mustContain(t, list.Body, "North West")
	page := s.get("/proposals/" + id)
	mustContain(t, page.Body, "Alan &lt;b&gt;Turing&lt;/b&gt;", "No group covers Manchester.")
	if strings.Contains(page.Body, proposer) {
		t.Error("the proposer's email address is published")
	}

	// Two people say they are interested; one confirms twice.
	for _, who := range []string{fan, other} {
		s.post("/proposals/"+id+"/interest", url.Values{"name": {"Fan"}, "email": {who}})
		tok := tokenOf(t, testenv.Link(t, testenv.LastMail(t, who).Body.Text, "/proposals/interest/confirm"))
		if r := s.post("/proposals/interest/confirm", url.Values{"token": {tok}}); r.Status != http.StatusOK {
			t.Fatalf("confirm interest: %d\n%s", r.Status, r.Body)
		}
	}
	s.post("/proposals/"+id+"/interest", url.Values{"name": {"Fan"}, "email": {fan}})
	tok := tokenOf(t, testenv.Link(t, testenv.LastMail(t, fan).Body.Text, "/proposals/interest/confirm"))
	s.post("/proposals/interest/confirm", url.Values{"token": {tok}})
	p, _ := s.App.Services.Proposals.Proposal(t.Context(), id)
	if p.Interested != 3 {
		t.Fatalf("%d interested, want 3 (the proposer and two people, counted once each)", p.Interested)
	}

	// The admin approves it.
	approved := s.post("/admin/proposals/"+id+"/approve", url.Values{"id": {"north-west"}, "name": {"North West"}, "regions": {"North West"}})
	if approved.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", approved.Status, approved.Body)
	}
	mustContain(t, s.get(approved.Header.Get("Location")).Body, "2 interested people invited")
	if strings.Contains(s.get("/proposals").Body, "North West") {
		t.Error("an approved proposal is still listed as open")
	}
	if facs, _ := s.App.Stores.Network.RoleHolders(t.Context(), "facilitator", "north-west"); len(facs) != 1 || facs[0] != proposer {
		t.Fatalf("facilitators of the new group: %v", facs)
	}
	if m := testenv.LastMail(t, proposer); m.Subject != "You have been asked to facilitate a peer group" {
		t.Errorf("the proposer's last email is %q", m.Subject)
	}

	// Invitations: sent once each, even when sent again.
	s.post("/admin/proposals/"+id+"/invite", url.Values{})
	for _, who := range []string{fan, other} {
		n := 0
		for _, m := range testenv.Mail(t, who) {
			if strings.HasPrefix(m.Subject, "A new peer group has started") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s got %d invitations, want 1", who, n)
		}
	}

	// Accepting the invitation makes a member (double opt-in: interest, then join).
	invite := testenv.Link(t, testenv.LastMail(t, fan).Body.Text, "/join/invitation")
	if r := s.get(invite); r.Status != http.StatusOK || !strings.Contains(r.Body, "Join the North West peer group") {
		t.Fatalf("invitation page: %d", r.Status)
	}
	person := s.person(fan)
	if person.IsMember("north-west") {
		t.Fatal("opening the invitation made a member")
	}
	for range 2 {
		if r := s.post("/join/invitation", url.Values{"token": {tokenOf(t, invite)}}); r.Status != http.StatusOK {
			t.Fatalf("accept: %d\n%s", r.Status, r.Body)
		}
	}
	person = s.person(fan)
	if !person.IsMember("north-west") || person.Profile.ConsentForm != "invitation" {
		t.Fatalf("after accepting: %+v", person)
	}

	// A decided proposal cannot be decided again.
	if r := s.post("/admin/proposals/"+id+"/decline", url.Values{"reason": {"Changed my mind"}}); r.Status != http.StatusConflict {
		t.Fatalf("declining an approved proposal: %d, want 409", r.Status)
	}
}

func TestADeclinedProposalTellsTheProposer(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	proposer := testenv.Address("proposer")
	s.post("/proposals/new", url.Values{"area": {"Atlantis"}, "name": {"Ada"}, "email": {proposer}, "why": {"Under the sea."}})
	s.post("/proposals/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, proposer).Body.Text, "/proposals/confirm"))}})
	props, _ := s.App.Services.Proposals.OpenProposals(t.Context())
	s.signIn(admin)
	if r := s.post("/admin/proposals/"+props[0].ID+"/decline", url.Values{"reason": {"There are no councils <there>."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("decline: %d\n%s", r.Status, r.Body)
	}
	m := testenv.LastMail(t, proposer)
	if m.Subject != "Your proposal for a peer group" || !strings.Contains(m.Body.Text, "There are no councils <there>.") || !strings.Contains(m.Body.HTML, "&lt;there&gt;") {
		t.Fatalf("decision email: %q\n%s", m.Subject, m.Body.HTML)
	}
}
