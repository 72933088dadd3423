package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// The whole kits journey in a browser with JavaScript off (on only for axe, on every
// page), one tab a person, through the pages alone: an admin creates a round; a
// facilitator writes the core kit (an error first, a PDF uploaded through the upload
// form, an image with no description that stops the admin publishing until it is
// fixed); London takes the core kit and changes two sections; the core kit changes one
// of them and another; the Midlands take London's version; London brings in the core
// kit's changes, answering the clash in the form; the Midlands, behind London, bring
// that in; the Midlands' run sheet is timed from their event and prints without the
// menus; the round is published. The only set-up done without pages is what has no
// page of its own in this journey: the facilitators' appointments and the events.
func TestTheKitsWalkInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	began := time.Now()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	coreFac, londonFac, midlandsFac := testenv.Address("yorkshire-fac"), testenv.Address("london-fac"), testenv.Address("midlands-fac")
	for group, email := range map[string]string{"yorkshire": coreFac, "london": londonFac, "midlands": midlandsFac} {
		if err := s.App.Services.Network.AppointFacilitator(ctx, system, group, email); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "Exercise cards.pdf")
	if err := os.WriteFile(pdf, samplePDF, 0o600); err != nil {
		t.Fatal(err)
	}

	// person is one person's browser tab, signed in, with JavaScript off.
	type person struct{ *browser }
	axe, err := os.ReadFile(filepath.Join(testenv.Root(), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (npm ci): %v", err)
	}
	signIn := func(email, lands string) person {
		// newBrowser's tab with a longer life: each lasts the whole walk, which a
		// machine busy with the full suite can stretch towards newBrowser's 3 minutes.
		b := &browser{t: t, ctx: testenv.BrowserTab(t, 12*time.Minute), axe: string(axe)}
		b.signIn(t, s, email, lands)
		b.do("turn JavaScript off", scripts(false))
		return person{b}
	}
	// see waits for text after the steps, then runs axe on the page (JavaScript on for
	// axe alone: the page was loaded without).
	see := func(p person, page, text string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		p.do(page, append(steps, waitPatiently(text))...)
		p.do("turn JavaScript on for axe", scripts(true))
		p.checkAccessibility(page)
		p.do("turn JavaScript off", scripts(false))
	}
	has := func(p person, page string, want ...string) {
		t.Helper()
		text := p.text()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Fatalf("%s does not say %q:\n%s", page, w, text)
			}
		}
	}
	hasNot := func(p person, page string, unwanted ...string) {
		t.Helper()
		text := p.text()
		for _, w := range unwanted {
			if strings.Contains(text, w) {
				t.Fatalf("%s still says %q:\n%s", page, w, text)
			}
		}
	}
	click := func(css string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(css)) }
	submit := click("main form button")

	// The admin creates round 9.
	a := signIn(admin, "Create a group")
	see(a, "admin, rounds", "Create a round", chromedp.Navigate(s.URL+"/admin/rounds"))
	see(a, "create a round", "Round number", click(`main a[href="/admin/rounds/new"]`))
	see(a, "a draft round", "Publish round 9",
		chromedp.SendKeys(chromedp.ID("number"), "9"),
		chromedp.SendKeys(chromedp.ID("title"), "Accessibility"),
		chromedp.SendKeys(chromedp.ID("summary"), "Making services everyone can use."),
		chromedp.SendKeys(chromedp.ID("start-day"), "1"), chromedp.SendKeys(chromedp.ID("start-month"), "3"), chromedp.SendKeys(chromedp.ID("start-year"), "2027"),
		chromedp.SendKeys(chromedp.ID("end-day"), "31"), chromedp.SendKeys(chromedp.ID("end-month"), "3"), chromedp.SendKeys(chromedp.ID("end-year"), "2027"),
		submit,
	)
	// The groups' events (set on the facilitators' event pages, which other tests walk).
	day := time.Date(2027, 3, 10, 0, 0, 0, 0, pg.London)
	for _, e := range []pg.Event{
		{Round: 9, GroupID: "london", Start: day.Add(10 * time.Hour), End: day.Add(12 * time.Hour), Venue: "Guildhall", Capacity: 30},
		{Round: 9, GroupID: "midlands", Start: day.Add(24*time.Hour + 13*time.Hour + 30*time.Minute), End: day.Add(24*time.Hour + 15*time.Hour + 30*time.Minute), Venue: "Birmingham Council House", Capacity: 20},
	} {
		if err := s.App.Services.Rounds.SetEvent(ctx, system, e); err != nil {
			t.Fatal(err)
		}
	}

	// A facilitator (of Yorkshire) writes the core kit.
	c := signIn(coreFac, "Your groups")
	see(c, "the group's page", "the round’s core kit", click(`main a[href="/facilitate/yorkshire"]`))
	see(c, "create the core kit", "Create the core kit", click(`main a[href="/kits/9"]`))
	see(c, "create the core kit, with errors", "There is a problem", submit)
	has(c, "create the core kit, with errors", "Enter")
	see(c, "the core kit, empty", "The core kit has been created",
		chromedp.SendKeys(chromedp.ID("title"), "Accessible services"),
		chromedp.SendKeys(chromedp.ID("summary"), "A morning on making services everyone can use."),
		chromedp.Click(chromedp.ID("licence")),
		submit,
	)
	addSection := func(title, kind, body, note string) {
		t.Helper()
		see(c, "add a section", "Add a section", click(`main a[href="/kits/9/sections/new"]`))
		see(c, "the core kit, "+title+" added", "Your changes have been saved",
			chromedp.SendKeys(chromedp.ID("title"), title),
			chromedp.Click(chromedp.CSS(`input[name="kind"][value="`+kind+`"]`)),
			chromedp.SetValue(chromedp.ID("body"), body),
			chromedp.SendKeys(chromedp.ID("note"), note),
			submit,
		)
	}
	addSection("Welcome", "slides", "Welcome to the session.\n\n![](/static/images/favicon.png)\n\nWe start with a short talk.\n", "First draft of the welcome")
	has(c, "the core kit with an image without a description", "Accessibility errors to fix", "has no description")
	addSection("The exercise", "exercise", "Try the service with a screen reader.\n\nNote what stops you.\n", "The exercise")
	addSection("Closing", "notes", "Thank everyone.\n\nAsk what they will change.\n", "Closing notes")

	// The agenda, for the run sheets.
	see(c, "the agenda's form", "Save the agenda", click(`main a[href="/kits/9/agenda"]`))
	see(c, "the agenda's form, two rows", "Save the agenda",
		chromedp.SendKeys(chromedp.ID("row-1-minutes"), "15"),
		chromedp.SendKeys(chromedp.ID("row-1-title"), "Welcome"),
		click(`button[value="add"]`),
		waitUntil("a second row", `document.getElementById("row-2-title")`),
	)
	see(c, "the core kit with its agenda", "Your changes have been saved",
		chromedp.SendKeys(chromedp.ID("row-2-minutes"), "60"),
		chromedp.SendKeys(chromedp.ID("row-2-title"), "Try it with a screen reader"),
		chromedp.SendKeys(chromedp.ID("row-2-facilitator-notes"), "Have NVDA installed on the laptops"),
		chromedp.SendKeys(chromedp.ID("note"), "First plan"),
		click(`.govuk-button-group button[value="save"]`),
	)
	has(c, "the core kit with its agenda", "2 items, 1 hour 15 minutes in all")

	// A PDF, through the upload form, which posts to S3 (here the front that acts as S3).
	see(c, "upload a file", "Upload a file", click(`main a[href="/kits/9/files/new"]`))
	see(c, "add the file", "Add the file to the kit",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdf}),
		submit,
	)
	has(c, "add the file", "Exercise cards.pdf", "PDF")
	see(c, "the core kit with a file", "Your changes have been saved",
		chromedp.SendKeys(chromedp.ID("title"), "Exercise cards"),
		chromedp.SetValue(chromedp.ID("alternative"), evalOn[string](c.browser, `[...document.querySelectorAll("#alternative option")].find(o => o.text === "The exercise").value`)),
		chromedp.SendKeys(chromedp.ID("note"), "The exercise as cards"),
		submit,
	)
	has(c, "the core kit with a file", "Exercise cards")

	// The admin cannot publish: the image has no description.
	see(a, "the round", "The round’s core kit", chromedp.Navigate(s.URL+"/admin/rounds/9"))
	see(a, "publishing refused", "cannot be published", click(`form[action="/admin/rounds/9/publish"] button`))
	has(a, "publishing refused", "Welcome", "has no description", "Publish round 9")
	if title := a.title(); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("the refusal's title is %q: it leads with an error summary, so it starts with \"Error: \"", title)
	}
	if link := evalOn[string](a.browser, `document.querySelector(".govuk-error-summary a").getAttribute("href")`); !strings.HasPrefix(link, "/kits/9/sections/") || !strings.HasSuffix(link, "#body") {
		t.Fatalf("the error summary links to %q, not to the section's text", link)
	}

	// The facilitator follows the kit page's link to the section and describes the image.
	see(c, "the kit", "Accessibility errors to fix", chromedp.Navigate(s.URL+"/kits/9"))
	see(c, "edit the welcome", "Edit Welcome", click(`main a[href^="/kits/9/sections/"][href$="#body"]`))
	see(c, "the core kit, accessible", "Your changes have been saved",
		chromedp.SetValue(chromedp.ID("body"), "Welcome to the session.\n\n![The network's logo](/static/images/favicon.png)\n\nWe start with a short talk.\n"),
		chromedp.SendKeys(chromedp.ID("note"), "Described the logo"),
		submit,
	)
	hasNot(c, "the core kit, accessible", "Accessibility errors to fix")

	// London takes the core kit and changes the welcome and the exercise.
	l := signIn(londonFac, "Your groups")
	see(l, "London's version, none yet", "Use the core kit", chromedp.Navigate(s.URL+"/kits/9/groups/london"))
	see(l, "London's version, made", "Your group’s version of the kit has been made", chromedp.Click(chromedp.ID("from")))
	editSection := func(p person, path, title, body, note string) {
		t.Helper()
		q, _ := json.Marshal(title)
		id := evalOn[string](p.browser, `[...document.querySelectorAll("main section h2")].find(h => h.textContent === `+string(q)+`).closest("section").id`)
		see(p, "edit "+title, "Edit "+title, click(`main section[id="`+id+`"] a[href="`+path+`/sections/`+id+`"]`))
		see(p, title+" saved", "Your changes have been saved",
			chromedp.SetValue(chromedp.ID("body"), body),
			chromedp.SendKeys(chromedp.ID("note"), note),
			submit,
		)
	}
	editSection(l, "/kits/9/groups/london", "Welcome", "Welcome to London.\n\n![The network's logo](/static/images/favicon.png)\n\nWe start with a short talk.\n", "London's welcome")
	editSection(l, "/kits/9/groups/london", "The exercise", "Try the council tax service with a screen reader.\n\nNote what stops you.\n", "London's exercise")
	has(l, "London's version, changed", "Changed here", "From the core kit")

	// The core kit changes the welcome (as London did, differently) and the closing.
	editSection(c, "/kits/9", "Welcome", "Welcome, everyone.\n\n![The network's logo](/static/images/favicon.png)\n\nWe start with a short talk.\n", "A warmer welcome")
	editSection(c, "/kits/9", "Closing", "Thank everyone.\n\nAsk what each will change next week.\n", "A sharper closing question")

	// The Midlands take London's version.
	m := signIn(midlandsFac, "Your groups")
	see(m, "the Midlands' version, none yet", "Use London", chromedp.Navigate(s.URL+"/kits/9/groups/midlands"))
	see(m, "the Midlands' version, made", "Your group’s version of the kit has been made", click(`main button[name="from"][value="london"]`))
	has(m, "the Midlands' version, made", "Midlands’ version: Accessible services", "Welcome to London.", "Based on London")

	// London brings in the core kit's changes: the closing merges, the welcome clashes.
	see(l, "London's version, behind", "The core kit has had 2 changes since you copied it", chromedp.Navigate(s.URL+"/kits/9/groups/london"))
	see(l, "bring in the core kit's changes", "Bring in the changes to the core kit", click(`main a[href="/kits/9/groups/london/merge"]`))
	has(l, "bring in the core kit's changes", "1 change clashes", "The content of “Welcome”")
	if ours, theirs := evalOn[string](l.browser, `document.getElementById("ours-0").value`), evalOn[string](l.browser, `document.getElementById("theirs-0").value`); !strings.Contains(ours, "Welcome to London.") || !strings.Contains(theirs, "Welcome, everyone.") {
		t.Fatalf("the clash does not show both texts: yours %q, the core kit's %q", ours, theirs)
	}
	see(l, "London's version, changes brought in", "The changes have been brought in",
		chromedp.Click(chromedp.ID("choice-0-own")),
		chromedp.SetValue(chromedp.ID("own-0"), "Welcome to London, everyone.\n\n![The network's logo](/static/images/favicon.png)\n\nWe start with a short talk.\n"),
		click(`main button[value="finish"]`),
	)
	has(l, "London's version, changes brought in", "Welcome to London, everyone.", "Ask what each will change next week.", "Try the council tax service")

	// The Midlands are behind London (the admin's lineage map says so too) and bring it in.
	see(a, "the lineage map", "1 change behind London", chromedp.Navigate(s.URL+"/kits/9/lineage"))
	see(m, "the Midlands' version, behind", "London has made 1 change since you copied it", chromedp.Navigate(s.URL+"/kits/9/groups/midlands"))
	see(m, "bring in London's changes", "None of the changes clashes", click(`main a[href="/kits/9/groups/midlands/merge"]`))
	see(m, "the Midlands' version, changes brought in", "The changes have been brought in", click(`main button[value="finish"]`))
	has(m, "the Midlands' version, changes brought in", "Welcome to London, everyone.", "Ask what each will change next week.")
	hasNot(m, "the Midlands' version, changes brought in", "London has made")

	// The Midlands' run sheet, from the core kit's task list: timed from their event, printed without the menus.
	see(m, "the core kit, for the Midlands", "Fit the agenda into Midlands’ event", chromedp.Navigate(s.URL+"/kits/9"))
	see(m, "the Midlands' run sheet", "Run sheet for Midlands", click(`main a[href="/kits/9/run-sheet/midlands?view=facilitator"]`))
	has(m, "the Midlands' run sheet", "Thursday 11 March 2027", "1:30pm to 1:45pm", "1:45pm to 2:45pm", "Have NVDA installed", "From Midlands’ version of the kit")
	see(m, "the Midlands' run sheet for participants", "Run sheet for Midlands: participants", click(`main a[href="?view=participant"]`))
	has(m, "the Midlands' run sheet for participants", "1:30pm to 1:45pm", "1:45pm to 2:45pm")
	hasNot(m, "the Midlands' run sheet for participants", "Have NVDA installed")
	media := func(kind string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: kind})
			return err
		})
	}
	m.do("print", media("print"))
	if hidden := evalOn[bool](m.browser, `[".govuk-template__header", ".govuk-footer", ".pg-no-print"].every(s => getComputedStyle(document.querySelector(s)).display === "none")`); !hidden {
		t.Error("the Midlands' run sheet prints the service's menus")
	}
	if shown := evalOn[bool](m.browser, `getComputedStyle(document.querySelector(".pg-run-sheet")).display !== "none"`); !shown {
		t.Error("the Midlands' run sheet prints without its agenda")
	}
	m.do("back to the screen", media(""))

	// The round is published.
	see(a, "the round, again", "Publish round 9", chromedp.Navigate(s.URL+"/admin/rounds/9"))
	see(a, "the round, published", "Announcements", click(`form[action="/admin/rounds/9/publish"] button`))
	hasNot(a, "the round, published", "cannot be published")
	if r, _, err := s.App.Services.Rounds.Round(ctx, 9); err != nil || r.State != pg.RoundPublished {
		t.Fatalf("round 9 after publishing: %+v %v", r, err)
	}
	t.Logf("the walk took %s", time.Since(began).Round(time.Second))
}

// waitPatiently is waitFor with a minute's patience rather than 15 seconds: the walk
// saves some thirty times, and on a machine running the whole suite (or other work)
// one save's page can take longer than 15 seconds to load. It fails only when the page
// never shows text.
func waitPatiently(text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 4 { // 4 × 15 s
			if _, err = waitFor(text)(ctx, tg); err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, err
	}
}
