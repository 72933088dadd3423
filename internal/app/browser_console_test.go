package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/testenv"
)

// signInInBrowser asks for a sign-in link, reads it from the SES stand-in, and signs in.
func (b *browser) signIn(t *testing.T, s *site, email, lands string) {
	t.Helper()
	b.do("open sign in", chromedp.Navigate(s.URL+"/sign-in"), waitFor("Email me a sign-in link"))
	b.checkAccessibility("sign in")
	b.do("ask for a link", chromedp.SendKeys(chromedp.ID("email"), email+"\r"), waitFor("Check your email"))
	b.checkAccessibility("sign in, check your email")
	b.followSignInLink(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/sign-in/link"), lands)
}

func (b *browser) followSignInLink(t *testing.T, link, lands string) {
	t.Helper()
	b.do("follow the sign-in link", chromedp.Navigate(link), waitFor("Sign in to Peer Groups"))
	b.checkAccessibility("sign-in link")
	b.do("sign in", chromedp.Click(chromedp.CSS("main form button")), waitFor(lands))
}

func TestRunningTheNetworkInABrowser(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	b := newBrowser(t)

	b.signIn(t, s, admin, "Create a group")
	b.checkAccessibility("admin, groups")

	// Create a group, with an error first.
	b.do("open the new group form", chromedp.Click(chromedp.CSS(`a[href="/admin/groups/new"]`)), waitFor("Short name"))
	b.checkAccessibility("create a group")
	b.do("send it empty", chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	b.checkAccessibility("create a group, with errors")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("id"), "north-west"),
		chromedp.SendKeys(chromedp.ID("name"), "North West"),
		chromedp.Click(chromedp.CSS(`input[name="regions"][value="North West"]`)),
		chromedp.SendKeys(chromedp.ID("description"), "For councils in the North West."),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("The group has been created"),
	)
	b.checkAccessibility("group settings")

	// Appoint a facilitator.
	fac := testenv.Address("fac")
	b.do("appoint a facilitator", chromedp.SendKeys(chromedp.CSS(`form[action$="/facilitators"] input[name="email"]`), fac), chromedp.Click(chromedp.CSS(`form[action$="/facilitators"] button`)), waitFor("sent an invitation"))
	b.checkAccessibility("group settings, facilitator appointed")

	for _, p := range []struct{ path, text, name string }{
		{"/admin/admins", "Appoint an admin", "admins"},
		{"/admin/audit", "appoint facilitator", "audit trail"},
		{"/admin/councils", "Council register", "council register"},
		{"/admin/proposals", "No proposals yet", "proposals"},
		{"/facilitate/north-west", "What people see about the group", "members, as admin"},
	} {
		b.do("open "+p.name, chromedp.Navigate(s.URL+p.path), waitFor(p.text))
		b.checkAccessibility(p.name)
	}
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/sign-out"] button`)), waitFor("Sign in"))

	// The facilitator signs in from the invitation and sees only their group.
	b.followSignInLink(t, testenv.Link(t, testenv.LastMail(t, fac).Body.Text, "/sign-in/link"), "Your groups")
	b.checkAccessibility("your groups")
	if text := b.text(); !strings.Contains(text, "North West") || strings.Contains(text, "Midlands") {
		t.Fatalf("a facilitator's groups:\n%s", text)
	}
	b.do("open the group", chromedp.Click(chromedp.CSS(`main a[href="/facilitate/north-west"]`)), waitFor("What people see about the group"))
	b.checkAccessibility("facilitate, members")
	b.do("filter by left", chromedp.Click(chromedp.CSS(`a[href$="status=left"]`)), waitFor("No left members"))
	b.checkAccessibility("facilitate, left members")
	b.do("change the description", chromedp.SetValue(chromedp.ID("description"), "We meet in Manchester."), chromedp.Click(chromedp.CSS(`main form button`)), waitFor("Your changes have been saved"))
	b.checkAccessibility("facilitate, saved")
	b.do("another group", chromedp.Navigate(s.URL+"/facilitate/midlands"), waitFor("You cannot see this page"))
	b.checkAccessibility("forbidden")
}

func TestAProposalBecomesAGroupInABrowser(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	b := newBrowser(t)
	proposer, fan := testenv.Address("proposer"), testenv.Address("fan")

	b.do("open proposals", chromedp.Navigate(s.URL+"/proposals"), waitFor("Proposed peer groups"))
	b.checkAccessibility("proposals")
	b.do("open the form", chromedp.Click(chromedp.CSS(`main a[href="/proposals/new"]`)), waitFor("Propose a peer group"))
	b.checkAccessibility("propose")
	b.do("send it empty", chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	b.checkAccessibility("propose, with errors")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("area"), "North West"),
		chromedp.SendKeys(chromedp.ID("name"), "Alan Turing"),
		chromedp.SendKeys(chromedp.ID("email"), proposer),
		chromedp.SendKeys(chromedp.ID("why"), "No group covers Manchester."),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Check your email"),
	)
	b.checkAccessibility("propose, check your email")
	b.do("confirm the proposal", chromedp.Navigate(testenv.Link(t, testenv.LastMail(t, proposer).Body.Text, "/proposals/confirm")), waitFor("Confirm your proposal"))
	b.checkAccessibility("confirm the proposal")
	b.do("confirm", chromedp.Click(chromedp.CSS("main form button")), waitFor("Your proposal has been sent"))
	b.checkAccessibility("proposal sent")

	// An admin lists it publicly first.
	b.signIn(t, s, admin, "Create a group")
	b.do("open the proposals", chromedp.Navigate(s.URL+"/admin/proposals"), waitFor("Waiting to be listed"))
	b.checkAccessibility("admin, proposals waiting to be listed")
	b.do("open the proposal to list", chromedp.Click(chromedp.CSS(`main a[href^="/admin/proposals/"]`)), waitFor("List it publicly"))
	b.do("list it", chromedp.Click(chromedp.CSS(`form[action$="/list"] button`)), waitFor("The proposal is now listed publicly"))
	b.checkAccessibility("admin, proposal listed")

	b.do("open it", chromedp.Navigate(s.URL+"/proposals"), chromedp.Click(chromedp.CSS(`main table a[href^="/proposals/"]`)), waitFor("I’m interested"))
	b.checkAccessibility("proposal")
	b.do("say I'm interested", chromedp.SendKeys(chromedp.ID("name"), "Fan"), chromedp.SendKeys(chromedp.ID("email"), fan+"\r"), waitFor("Check your email"))
	b.do("confirm interest", chromedp.Navigate(testenv.Link(t, testenv.LastMail(t, fan).Body.Text, "/proposals/interest/confirm")), waitFor("Confirm your interest"))
	b.checkAccessibility("confirm interest")
	b.do("confirm", chromedp.Click(chromedp.CSS("main form button")), waitFor("Thank you for your interest"))
	b.checkAccessibility("interest confirmed")

	b.do("open the proposal", chromedp.Navigate(s.URL+"/admin/proposals"), waitFor("North West"), chromedp.Click(chromedp.CSS(`main a[href^="/admin/proposals/"]`)), waitFor("Approve: start the group"))
	b.checkAccessibility("admin, proposal")
	b.do("approve", chromedp.Click(chromedp.CSS(`input[name="regions"][value="North West"]`)), chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)), waitFor("1 interested person invited"))
	b.checkAccessibility("admin, proposal approved")

	b.do("open the invitation", chromedp.Navigate(testenv.Link(t, testenv.LastMail(t, fan).Body.Text, "/join/invitation")), waitFor("Join the North West peer group"))
	b.checkAccessibility("invitation")
	b.do("join", chromedp.Click(chromedp.CSS("main form button")), waitFor("You have joined the North West peer group"))
	b.checkAccessibility("invitation accepted")

	// The council register, public side.
	b.do("open the register", chromedp.Navigate(s.URL+"/councils"), waitFor("Councils signed up to the Standard"))
	b.checkAccessibility("council register")
	b.do("sign a council up", chromedp.Navigate(s.URL+"/councils/sign-up"), waitFor("Sign your council up"), chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	b.checkAccessibility("council sign-up, with errors")

	// The council register, admin side: a confirmed sign-up waits in the queue.
	contact := testenv.Address("contact")
	s.post("/councils/sign-up", registerForm(contact))
	s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, contact).Body.Text, "/councils/confirm"))}})
	b.do("open the queue", chromedp.Navigate(s.URL+"/admin/councils"), waitFor("Check and decide"))
	b.checkAccessibility("admin, councils waiting for approval")
	b.do("open the sign-up", chromedp.Click(chromedp.CSS(`main a[href="/admin/councils/LDS"]`)), waitFor("Decline Leeds City Council"))
	b.checkAccessibility("admin, a council waiting for approval")
	b.do("decline without a reason", chromedp.Click(chromedp.CSS(`form[action$="/decline"] button`)), waitFor("There is a problem"))
	b.checkAccessibility("admin, decline without a reason")
	b.do("approve", chromedp.Click(chromedp.CSS(`form[action$="/list"] button`)), waitFor("The council is now on the public register"))
	b.checkAccessibility("admin, council approved")
}
