package app_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// A facilitator plans the agenda in a browser with JavaScript off: an error first, a
// row added and moved, a save by pressing Enter; then London's run sheet, in both
// views, printed on one page each. axe checks every page.
func TestTheAgendaAndRunSheetInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 6, Title: "Content design", Summary: "Words.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Services.Rounds.SetEvent(ctx, system, pg.Event{Round: 6, GroupID: "london", Start: start.Add(3*24*time.Hour + 10*time.Hour), End: start.Add(3*24*time.Hour + 10*time.Hour + 45*time.Minute), Venue: "Guildhall", Capacity: 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Services.Kits.CreateCoreKit(ctx, system, 6, pg.KitDoc{Title: "Plain words", Summary: "A session.", Licence: pg.LicenceOGL}); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(t, s, fac, "Your groups")
	b.do("turn JavaScript off", scripts(false))
	check := func(page string) {
		t.Helper()
		b.do("turn JavaScript on for axe", scripts(true))
		b.checkAccessibility(page)
		b.do("turn JavaScript off", scripts(false))
	}

	b.do("open the kit", chromedp.Navigate(s.URL+"/kits/6"), waitFor("What is left to do"))
	check("the kit, with its task list")
	b.do("plan the agenda", chromedp.Click(chromedp.CSS(`main a.govuk-task-list__link[href="/kits/6/agenda"]`)), waitFor("Save the agenda"))
	check("the agenda's form")
	b.do("fill in the first row and add another",
		chromedp.SendKeys(chromedp.ID("row-1-minutes"), "forty"),
		chromedp.SendKeys(chromedp.ID("row-1-title"), "Rewrite a letter"),
		chromedp.SendKeys(chromedp.ID("row-1-facilitator-notes"), "Bring the council's worst letter"),
		chromedp.Click(chromedp.CSS(`button[value="add"]`)),
		waitUntil("a second row", `document.getElementById("row-2-title")`),
	)
	b.do("fill in the second row and move it up",
		chromedp.SendKeys(chromedp.ID("row-2-minutes"), "15"),
		chromedp.SendKeys(chromedp.ID("row-2-title"), "Welcome"),
		chromedp.Click(chromedp.CSS(`button[value="up-2"]`)),
		waitUntil("the second row first", `document.getElementById("row-1-title") && document.getElementById("row-1-title").value === "Welcome"`),
	)
	if v := evalOn[string](b, `document.getElementById("row-2-minutes").value`); v != "forty" {
		t.Fatalf("after moving, the second row's minutes are %q", v)
	}
	b.do("save it", chromedp.Click(chromedp.CSS(`.govuk-button-group button[value="save"]`)), waitFor("There is a problem"))
	check("the agenda's form, with errors")
	if text := b.text(); !strings.Contains(text, "Minutes of item 2 must be a whole number from 1 to 480") || !strings.Contains(text, "Enter a short note of what you changed") {
		t.Fatalf("the errors:\n%s", text)
	}
	// Pressing Enter in a field saves (the form's default button), not moves a row.
	b.do("put it right and press Enter",
		chromedp.SetValue(chromedp.ID("row-2-minutes"), "40"),
		chromedp.SendKeys(chromedp.ID("note"), "First plan\r"),
		waitFor("Your changes have been saved"),
	)
	check("the kit, with its agenda")
	if text := b.text(); !strings.Contains(text, "2 items, 55 minutes in all") || !strings.Contains(text, "Agenda longer than the slot") {
		t.Fatalf("the kit after saving the agenda:\n%s", text)
	}

	for _, view := range []string{"facilitator", "participant"} {
		b.do("open the "+view+"s' run sheet", chromedp.Navigate(s.URL+"/kits/6/run-sheet/london?view="+view), waitFor("Run sheet for London"))
		check("the " + view + "s' run sheet")
		text := b.text()
		if !strings.Contains(text, "10am to 10:15am") || !strings.Contains(text, "10:15am to 10:55am") || !strings.Contains(text, "Warning") {
			t.Errorf("the %ss' run sheet:\n%s", view, text)
		}
		if got := strings.Contains(text, "the council's worst letter"); got != (view == "facilitator") {
			t.Errorf("the %ss' run sheet shows the facilitators' notes: %v", view, got)
		}
		// Printed: without the service's menus, on one page.
		err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		if hidden := evalOn[bool](b, `getComputedStyle(document.querySelector(".govuk-template__header")).display === "none" && getComputedStyle(document.querySelector(".govuk-footer")).display === "none"`); !hidden {
			t.Errorf("the %ss' run sheet prints the service's menus", view)
		}
		pdf, err := chromedp.Run(b.ctx, chromedp.Action[page.PrintToPDFResult](func(ctx context.Context, tg *chromedp.Target) (page.PrintToPDFResult, error) {
			return cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{})
		}))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pdfPage.FindAll(pdf.Data, -1)); n != 1 {
			t.Errorf("the %ss' run sheet prints on %d pages", view, n)
		}
		b.do("back to the screen", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	}
}
