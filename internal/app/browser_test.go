package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/testenv"
)

// browser is headless Chromium on one tab, with axe-core to check every page.
type browser struct {
	t   *testing.T
	ctx context.Context
	axe string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	// A limit for a tab that hangs, not a measure of speed: on a machine shared with
	// other work a browser journey has taken several minutes.
	ctx := testenv.BrowserTab(t, 10*time.Minute)
	axe, err := os.ReadFile(filepath.Join(testenv.Root(), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (npm ci): %v", err)
	}
	return &browser{t: t, ctx: ctx, axe: string(axe)}
}

// do runs steps, failing the test with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.text())
	}
}

func (b *browser) text() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

func (b *browser) title() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Title())
	return s
}

// waitFor waits until the page has loaded and shows text. It asks again while a
// navigation replaces the page under it.
func waitFor(text string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(text)
	check := chromedp.Evaluate[bool](fmt.Sprintf(`document.readyState === "complete" && document.body !== null && document.body.innerText.includes(%s)`, q))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		var lastErr error
		for time.Now().Before(deadline) {
			ok, err := check(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			lastErr = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return chromedp.Void{}, fmt.Errorf("the page did not show %q within 15 s (last error: %v)", text, lastErr)
	}
}

// checkAccessibility runs axe-core on the page and fails on any violation of WCAG
// 2.2 A and AA, or of axe's best practices.
func (b *browser) checkAccessibility(page string) {
	b.t.Helper()
	for _, v := range b.violations(page) {
		b.t.Errorf("%s: accessibility violation %s", page, v)
	}
}

// violations returns what axe-core finds wrong with the page.
func (b *browser) violations(page string) []string {
	b.t.Helper()
	loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		b.t.Fatalf("%s: %v", page, err)
	}
	if !loaded {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
			b.t.Fatalf("%s: load axe-core: %v", page, err)
		}
	}
	report, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: run axe-core: %v", page, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(report), &violations); err != nil {
		b.t.Fatalf("%s: axe report: %v", page, err)
	}
	var out []string
	for _, v := range violations {
		out = append(out, fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", ")))
	}
	return out
}

func TestTheJoiningJourneyInABrowser(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := newBrowser(t)
	email := testenv.Address("browser")

	b.do("open the home page", chromedp.Navigate(s.URL+"/"), waitFor("Peer groups for local government digital people"))
	b.checkAccessibility("home")

	// axe-core must be able to fail: plant an image with no text alternative.
	b.do("plant a violation", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend", '<img src="/assets/app.css">')`)(ctx, t)
		return chromedp.Void{}, err
	})
	if found := b.violations("home, with a planted violation"); len(found) == 0 || !strings.Contains(strings.Join(found, " "), "image-alt") {
		t.Fatalf("axe-core did not find the planted image without alt text: %v", found)
	}
	b.do("reload the home page", chromedp.Navigate(s.URL+"/"), waitFor("Peer groups for local government digital people"))

	// The keyboard is enough: focus the start button and press Enter.
	b.do("start", chromedp.Focus(chromedp.CSS(".govuk-button--start")), chromedp.KeyEvent("\r"), waitFor("Your details"))
	b.checkAccessibility("your details")

	// An error first: send the form empty.
	b.do("send the empty form", chromedp.Focus(chromedp.CSS("form button[type=submit]")), chromedp.KeyEvent("\r"), waitFor("There is a problem"))
	if title := b.title(); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title of a page with errors is %q, want it to start with \"Error: \"", title)
	}
	b.checkAccessibility("your details, with errors")

	// Fix it, typing into each field, and press Enter in the last one.
	b.do("fill in the details",
		chromedp.SendKeys(chromedp.ID("name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chooseCouncil("birm", "Birmingham City Council"),
		chromedp.SendKeys(chromedp.ID("jobTitle"), "Head of digital\r"),
		waitFor("Which peer groups do you want to join?"),
	)
	b.checkAccessibility("which groups")
	checked, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector('input[value="midlands"]').checked`))
	if err != nil || !checked {
		t.Fatalf("the Midlands group is not ticked for a Birmingham council: %v", err)
	}
	b.do("send the form", chromedp.Click(chromedp.CSS("form button.govuk-button:not(.govuk-button--secondary)")), waitFor("Check your email"))
	b.checkAccessibility("check your email")

	// The confirmation email, read from the SES stand-in.
	link := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/join/confirm")
	b.do("follow the confirmation link", chromedp.Navigate(link), waitFor("Confirm that you want to join"))
	b.checkAccessibility("confirm")
	b.do("confirm", chromedp.Focus(chromedp.CSS("form button[type=submit]")), chromedp.KeyEvent("\r"), waitFor("You have joined"))
	b.checkAccessibility("you have joined")

	// A used link explains itself.
	b.do("follow the used link", chromedp.Navigate(link), waitFor("This link cannot be used again"))
	b.checkAccessibility("used link")

	// Manage the membership from the welcome email, and leave the group.
	welcome := testenv.LastMail(t, email)
	b.do("open manage your membership", chromedp.Navigate(testenv.Link(t, welcome.Body.Text, "/manage")), waitFor("Manage your membership"))
	b.checkAccessibility("manage")
	b.do("leave the group", chromedp.Click(chromedp.CSS(`form[action="/manage/leave"] button`)), waitFor("You have left the Midlands peer group"))
	b.checkAccessibility("manage, after leaving")
	person, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil || person.IsMember("midlands") {
		t.Fatalf("still a member after leaving in the browser: %v", err)
	}

	// The other pages a person can reach.
	b.do("open the unsubscribe page", chromedp.Navigate(strings.Trim(welcome.Header("List-Unsubscribe"), "<>")), waitFor("Unsubscribe"))
	b.checkAccessibility("unsubscribe")
	b.do("unsubscribe", chromedp.Click(chromedp.CSS("form button")), waitFor("You have unsubscribed"))
	b.checkAccessibility("unsubscribed")
	b.do("ask for a manage link", chromedp.Navigate(s.URL+"/manage/link"), waitFor("Get a link to manage your membership"))
	b.checkAccessibility("manage link")
	b.do("send it with a bad address", chromedp.SendKeys(chromedp.ID("email"), "not an address\r"), waitFor("There is a problem"))
	b.checkAccessibility("manage link, with errors")
	b.do("a page that does not exist", chromedp.Navigate(s.URL+"/nowhere"), waitFor("Page not found"))
	b.checkAccessibility("not found")
	b.do("open the privacy notice from the footer", chromedp.Click(chromedp.CSS(`footer a[href="/privacy"]`)), waitFor("How long we keep it"))
	b.checkAccessibility("privacy notice")
	b.do("a link that is not valid", chromedp.Navigate(s.URL+"/join/confirm?token=nonsense"), waitFor("This link is not valid"))
	b.checkAccessibility("invalid link")
	s.Clock.Add(49 * time.Hour)
	b.do("an expired link", chromedp.Navigate(link), waitFor("This link"))
	b.checkAccessibility("expired or used link")
}

func TestARegionWithoutAGroupInABrowser(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := newBrowser(t)
	email := testenv.Address("browser-nw")
	b.do("open the form", chromedp.Navigate(s.URL+"/join"), waitFor("Your details"))
	b.do("fill in the details",
		chromedp.SendKeys(chromedp.ID("name"), "Alan Turing"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chooseCouncil("manch", "Manchester City Council"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitFor("There is no peer group for councils in North West yet"),
	)
	b.checkAccessibility("which groups, no group for the region")
	b.do("send without choosing", chromedp.Click(chromedp.CSS("form button.govuk-button:not(.govuk-button--secondary)")), waitFor("Select at least one peer group to join"))
	b.checkAccessibility("which groups, with errors")
	b.do("go back to the details", chromedp.Click(chromedp.CSS("form button.govuk-button--secondary")), waitFor("Your details"))
	value, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("name").value`))
	if err != nil || value != "Alan Turing" {
		t.Fatalf("answers lost going back: %q %v", value, err)
	}
}
