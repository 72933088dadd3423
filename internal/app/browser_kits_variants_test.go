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

// An admin makes London's version of the core kit in a browser with JavaScript off,
// brings in the core kit's later changes answering a clash in the form (after an error),
// and reads the history and the lineage map. axe checks every page.
func TestAGroupsVersionOfTheKitInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 6, Title: "Content design", Summary: "Words.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	kits, variants := s.App.Services.Kits, s.App.Services.KitVariants
	kit, err := kits.CreateCoreKit(ctx, system, 6, pg.KitDoc{Title: "Plain words", Summary: "A session.", Licence: pg.LicenceOGL})
	if err != nil {
		t.Fatal(err)
	}
	welcome := pg.KitSection{ID: "welcome", Kind: pg.SectionSlides, Audience: pg.AudienceParticipant, Title: "Welcome", Body: "Welcome.\n"}
	closing := pg.KitSection{ID: "closing", Kind: pg.SectionNotes, Audience: pg.AudienceFacilitator, Title: "Closing", Body: "Thanks.\n"}
	for _, sec := range []pg.KitSection{welcome, closing} {
		if kit, err = kits.SaveSection(ctx, system, 6, kit.Revision, sec, "Added "+sec.Title); err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t)
	b.signIn(t, s, admin, "Create a group")
	b.do("turn JavaScript off", scripts(false))
	check := func(page string) {
		t.Helper()
		b.do("turn JavaScript on for axe", scripts(true))
		b.checkAccessibility(page)
		b.do("turn JavaScript off", scripts(false))
	}
	b.do("open London's version", chromedp.Navigate(s.URL+"/kits/6/groups/london"), waitFor("Use the core kit"))
	check("a group without its version")
	b.do("use the core kit", chromedp.Click(chromedp.ID("from")), waitFor("Your group’s version of the kit has been made"))
	check("a group's version, just made")

	// London changes the welcome; the core kit changes it too, and the closing.
	v, err := variants.Variant(ctx, system, 6, "london")
	if err != nil {
		t.Fatal(err)
	}
	londonWelcome := welcome
	londonWelcome.Body = "Welcome to London.\n"
	if _, err := variants.SaveVariantSection(ctx, system, 6, "london", v.Revision, londonWelcome, "London's welcome"); err != nil {
		t.Fatal(err)
	}
	for _, sec := range []pg.KitSection{{ID: "welcome", Kind: pg.SectionSlides, Audience: pg.AudienceParticipant, Title: "Welcome", Body: "Welcome, everyone.\n"},
		{ID: "closing", Kind: pg.SectionNotes, Audience: pg.AudienceFacilitator, Title: "Closing", Body: "Thanks for coming.\n"}} {
		if kit, err = kits.SaveSection(ctx, system, 6, kit.Revision, sec, "Core "+sec.Title); err != nil {
			t.Fatal(err)
		}
	}
	if err := variants.CreateVariant(ctx, system, 6, "midlands", "london"); err != nil {
		t.Fatal(err)
	}

	b.do("London's version, behind", chromedp.Navigate(s.URL+"/kits/6/groups/london"), waitFor("The core kit has had 2 changes since you copied it"))
	check("a group's version, behind its parent")
	b.do("bring them in", chromedp.Click(chromedp.CSS(`main a[href="/kits/6/groups/london/merge"]`)), waitFor("Bring in the changes to the core kit"))
	check("bring in the changes")
	b.do("finish without answering", chromedp.Click(chromedp.CSS(`main button[value="finish"]`)), waitFor("There is a problem"))
	check("bring in the changes, with an error")
	b.do("write our own",
		chromedp.Click(chromedp.ID("choice-0-own")),
		chromedp.SendKeys(chromedp.ID("own-0"), "Welcome to London, everyone.\n"),
		chromedp.Click(chromedp.CSS(`main button[value="finish"]`)),
		waitFor("The changes have been brought in"),
	)
	check("a group's version, changes brought in")
	if text := b.text(); !strings.Contains(text, "Welcome to London, everyone.") || !strings.Contains(text, "Thanks for coming.") {
		t.Fatalf("the merge is not in London's version:\n%s", text)
	}
	b.do("history", chromedp.Click(chromedp.CSS(`main a[href="/kits/6/groups/london/history"]`)), waitFor("History of London’s version"))
	check("a group's version's history")
	b.do("lineage", chromedp.Navigate(s.URL+"/kits/6/lineage"), waitFor("1 change behind London"))
	check("the lineage map")
	b.do("the Midlands' version", chromedp.Navigate(s.URL+"/kits/6/groups/midlands"), waitFor("London has made 1 change since you copied it"))
	check("a version taken from another group's")
}
