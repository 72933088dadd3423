package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/testenv"
)

// An admin changes a group's address in a browser, with an error first; every page
// passes axe, and the home page shows the new address.
func TestChangingAGroupsAddressInABrowser(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("addr-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "GROUPS_MAIL_DOMAIN": groupsDomain})
	b := newBrowser(t)
	b.signIn(t, s, admin, "Create a group")
	b.do("open the Midlands", chromedp.Navigate(s.URL+"/admin/groups/midlands"), waitFor("Change the email address"))
	b.checkAccessibility("group settings with its address")
	b.do("take the postmaster's address",
		chromedp.SetValue(chromedp.ID("address"), "postmaster"),
		chromedp.Click(chromedp.CSS(`form[action$="/address"] button`)),
		waitFor("kept for the service itself"),
	)
	b.checkAccessibility("group address, with an error")
	b.do("give it another",
		chromedp.SetValue(chromedp.ID("address"), "west-mids"),
		chromedp.Click(chromedp.CSS(`form[action$="/address"] button`)),
		waitFor("The group’s email address has been changed"),
	)
	b.checkAccessibility("group address changed")
	b.do("open the home page", chromedp.Navigate(s.URL+"/"), waitFor("west-mids@"+groupsDomain))
	b.do("open the facilitators' page", chromedp.Navigate(s.URL+"/facilitate/midlands"), waitFor("west-mids@"+groupsDomain))
	b.checkAccessibility("facilitators' page with the group's address")
}
