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

// An admin, in a browser with JavaScript off, suggests London's changed welcome to the
// core kit, finds it from the kit page, sends a reason too long to decline it, then
// accepts it, and sees the outcome on London's version. axe checks every page.
func TestASuggestionToTheCoreKitInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 7, Title: "Accessibility", Summary: "For everyone.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	kits, variants := s.App.Services.Kits, s.App.Services.KitVariants
	kit, err := kits.CreateCoreKit(ctx, system, 7, pg.KitDoc{Title: "Accessible services", Summary: "A session.", Licence: pg.LicenceOGL})
	if err != nil {
		t.Fatal(err)
	}
	welcome := pg.KitSection{ID: "welcome", Kind: pg.SectionSlides, Audience: pg.AudienceParticipant, Title: "Welcome", Body: "Welcome.\n\nWe start at ten.\n"}
	if kit, err = kits.SaveSection(ctx, system, 7, kit.Revision, welcome, "Added the welcome"); err != nil {
		t.Fatal(err)
	}
	if err := variants.CreateVariant(ctx, system, 7, "london", pg.CoreKit); err != nil {
		t.Fatal(err)
	}
	v, err := variants.Variant(ctx, system, 7, "london")
	if err != nil {
		t.Fatal(err)
	}
	londonWelcome := welcome
	londonWelcome.Body = "Welcome to London.\n\nWe start at ten.\n"
	if _, err := variants.SaveVariantSection(ctx, system, 7, "london", v.Revision, londonWelcome, "London's welcome"); err != nil {
		t.Fatal(err)
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
	b.do("London's version", chromedp.Navigate(s.URL+"/kits/7/groups/london"), waitFor("Suggest this change to the core kit"))
	check("a group's version with a change to suggest")
	b.do("suggest it", chromedp.Click(chromedp.CSS(`main form[action="/kits/7/groups/london/sections/welcome/suggest"] button`)), waitFor("Your change has been suggested to the core kit"))
	check("a group's version with its suggestion waiting")
	b.do("the core kit", chromedp.Navigate(s.URL+"/kits/7"), waitFor("1 suggestion from groups"))
	b.do("its suggestions", chromedp.Click(chromedp.CSS(`main a[href="/kits/7/suggestions"]`)), waitFor("London’s suggestion"))
	check("the suggestions from groups")
	b.do("decline with a reason too long",
		chromedp.SendKeys(chromedp.CSS(`main textarea[name="reason"]`), strings.Repeat("No. ", 260)),
		chromedp.Click(chromedp.CSS(`main form[action$="/decline"] button`)),
		waitFor("There is a problem"),
	)
	check("the suggestions from groups, with an error")
	b.do("accept it", chromedp.Click(chromedp.CSS(`main form[action$="/accept"] button`)), waitFor("The suggestion has been taken into the core kit"))
	check("the suggestions from groups, none left")
	b.do("London's version, its suggestion accepted", chromedp.Navigate(s.URL+"/kits/7/groups/london"), waitFor("taken into revision 3 of the core kit"))
	check("a group's version with its suggestion accepted")
}
