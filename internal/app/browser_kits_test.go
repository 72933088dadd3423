package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A facilitator writes the core kit in a browser with JavaScript off: an error first,
// a section, an edit that clashes with someone else's, and the history. axe checks
// every page.
func TestTheCoreKitInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 5, Title: "User research", Summary: "Doing it well.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(t, s, fac, "Your groups")
	b.do("turn JavaScript off", scripts(false))
	// axe-core needs JavaScript: it is turned on for axe once each page has loaded
	// without, then off again for the next page.
	check := func(page string) {
		t.Helper()
		b.do("turn JavaScript on for axe", scripts(true))
		b.checkAccessibility(page)
		b.do("turn JavaScript off", scripts(false))
	}

	b.do("open the kit", chromedp.Navigate(s.URL+"/kits/5"), waitFor("Create the core kit"))
	check("create the core kit")
	b.do("send it empty", chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	check("create the core kit, with errors")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("title"), "Research with users"),
		chromedp.SendKeys(chromedp.ID("summary"), "A half-day session."),
		chromedp.Click(chromedp.ID("licence")),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("The core kit has been created"),
	)
	check("the core kit, empty")

	b.do("add a section", chromedp.Click(chromedp.CSS(`main a[href="/kits/5/sections/new"]`)), waitFor("Add a section"))
	check("add a section")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("title"), "Welcome"),
		chromedp.SendKeys(chromedp.ID("body"), "## Before you start\n\nRead the [service manual](https://www.gov.uk/service-manual).\n\n- Arrive by ten\n- Bring a laptop\n"),
		chromedp.SendKeys(chromedp.ID("note"), "First draft"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Your changes have been saved"),
	)
	check("the core kit, one section")
	kit, err := s.App.Services.Kits.CoreKit(ctx, system, 5)
	if err != nil || len(kit.Doc.Sections) != 1 {
		t.Fatalf("kit after the first section: %+v %v", kit.Doc, err)
	}
	sec := kit.Doc.Sections[0]

	// Someone else saves the same section while this facilitator is editing it.
	b.do("edit it", chromedp.Navigate(s.URL+"/kits/5/sections/"+sec.ID), waitFor("Edit Welcome"))
	check("edit a section")
	other := sec
	other.Body = "Someone else's welcome.\n"
	if _, err := s.App.Services.Kits.SaveSection(ctx, system, 5, kit.Revision, other, "Their change"); err != nil {
		t.Fatal(err)
	}
	b.do("change it",
		chromedp.SendKeys(chromedp.ID("body"), "\nAnd bring lunch.\n"),
		chromedp.SendKeys(chromedp.ID("note"), "Lunch"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Someone else changed this section"),
	)
	check("a clash")
	theirs, ours := evalOn[string](b, `document.getElementById("theirs-0").value`), evalOn[string](b, `document.getElementById("body").value`)
	if !strings.Contains(theirs, "Someone else's welcome.") || !strings.Contains(ours, "And bring lunch.") || !strings.Contains(ours, "Bring a laptop") {
		t.Fatalf("the conflict page does not show both texts: theirs %q, yours %q", theirs, ours)
	}
	b.do("save again", chromedp.Click(chromedp.CSS("main form button")), waitFor("Your changes have been saved"))
	if text := b.text(); !strings.Contains(text, "And bring lunch.") {
		t.Fatalf("the text saved again is not in the kit:\n%s", text)
	}
	b.do("history", chromedp.Click(chromedp.CSS(`main a[href="/kits/5/history"]`)), waitFor("History of the kit"))
	check("history")
	if text := b.text(); !strings.Contains(text, "Their change") || !strings.Contains(text, "Lunch") {
		t.Fatalf("history:\n%s", text)
	}

	// Compare the two latest revisions, chosen already.
	b.do("compare", chromedp.Click(chromedp.CSS(`main form button`)), waitFor("1 section changed")) // words only the compare page has: the history page has a "Compare revision" field
	check("compare two revisions")
	if text := b.text(); !strings.Contains(text, "1 section changed") || !strings.Contains(text, "And bring lunch.") || !strings.Contains(text, "added:") {
		t.Fatalf("compare:\n%s", text)
	}
	b.do("compare nothing", chromedp.Navigate(s.URL+"/kits/5/compare"), waitFor("There is a problem"))
	check("compare, with errors")
}
