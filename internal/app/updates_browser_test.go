package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// The pages of this change, seen in a browser and checked with axe: the members list's
// pages, the conflict page of an edit, and the manage page of a member of a paused group.
func TestPagesConflictsAndPausedGroupsInABrowser(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	importMembers(t, s, "london", 150)
	b := newBrowser(t)
	b.signIn(t, s, admin, "Create a group")

	b.do("open the members", chromedp.Navigate(s.URL+"/facilitate/london"), waitFor("Confirmed members 1 to 100"))
	b.checkAccessibility("members, first page")
	b.do("next page", chromedp.Click(chromedp.CSS(`a[rel="next"]`)), waitFor("Confirmed members 101 to 150"))
	b.checkAccessibility("members, last page")

	b.do("open the settings", chromedp.Navigate(s.URL+"/admin/groups/london"), waitFor("Settings"))
	// Someone else saves a change meanwhile.
	current, err := s.App.Services.Network.GroupForEdit(ctx, system, "london")
	if err != nil {
		t.Fatal(err)
	}
	current.Name = "London and the City"
	if err := s.App.Services.Network.UpdateGroup(ctx, system, current, pg.AllGroupFields); err != nil {
		t.Fatal(err)
	}
	b.do("save an old form", chromedp.SetValue(chromedp.ID("description"), "Meets monthly."), chromedp.Click(chromedp.CSS(`form[action="/admin/groups/london"] button`)), waitFor("Someone else changed this group"))
	b.checkAccessibility("conflict")
	b.do("save again", chromedp.SetValue(chromedp.ID("description"), "Meets monthly."), chromedp.Click(chromedp.CSS(`main form[action="/admin/groups/london"] button`)), waitFor("Your changes have been saved"))

	member := testenv.Address("member")
	tok := tokenOf(t, testenv.Link(t, s.joinAndConfirm(member).Body.Text, "/manage"))
	s.post("/manage/groups", url.Values{"token": {tok}, "groups": {"midlands", "london"}})
	if err := s.App.Services.Network.SetPaused(ctx, system, "london", true); err != nil {
		t.Fatal(err)
	}
	b.do("manage, a paused group", chromedp.Navigate(s.URL+"/manage?token="+url.QueryEscape(tok)), waitFor("is paused, so it is not listed here"))
	b.checkAccessibility("manage, paused group")
	b.do("save", chromedp.Click(chromedp.CSS(`form[action="/manage/groups"] button`)), waitFor("Your groups have been saved"))
	if text := b.text(); !strings.Contains(text, "London and the City") {
		t.Fatalf("after saving, the paused group is not among the member's groups:\n%s", text)
	}
}
