package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/peergroups/peergroups/internal/testenv"
)

// The council pickers (joining, and signing a council up) are selects of some 400
// councils that GOV.UK's accessible autocomplete turns into a text box with a list of
// matches. These tests drive both: the box with JavaScript, the select without.

// waitUntil waits until a JavaScript condition holds on the page, asking again while a
// navigation replaces the page under it.
func waitUntil(what, condition string) chromedp.Action[chromedp.Void] {
	check := chromedp.Evaluate[bool](`document.readyState === "complete" && !!(` + condition + `)`)
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
		return chromedp.Void{}, fmt.Errorf("%s: not within 15 s (last error: %v)", what, lastErr)
	}
}

// enhanced holds once the council select has become the autocomplete's text box.
const enhanced = `document.getElementById("council") && document.getElementById("council").getAttribute("role") === "combobox"`

// chooseCouncil types into the council picker's text box, then picks the council
// named from the list of matches with the keyboard: down arrow to it, Enter.
func chooseCouncil(typed, name string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(name)
	focused := chromedp.Evaluate[string](`(document.querySelector("#council__listbox .autocomplete__option--focused") || {textContent: ""}).textContent.trim()`)
	return chromedp.Steps(
		waitUntil("the council picker", enhanced),
		chromedp.SendKeys(chromedp.ID("council"), typed),
		waitUntil("the council picker offers "+name, fmt.Sprintf(`[...document.querySelectorAll("#council__listbox [role=option]")].some(o => o.textContent.trim() === %s)`, q)),
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			for range 20 {
				got, err := focused(ctx, t)
				if err != nil {
					return chromedp.Void{}, err
				}
				if got == name {
					return press('\r')(ctx, t)
				}
				if _, err := press([]rune(kb.ArrowDown)[0])(ctx, t); err != nil {
					return chromedp.Void{}, err
				}
			}
			return chromedp.Void{}, fmt.Errorf("the down arrow did not reach %s in 20 presses", name)
		},
		waitUntil("the council picker shows "+name, fmt.Sprintf(`document.getElementById("council").value === %s`, q)),
	)
}

// press presses a key as a person does: one key-down that carries the key's text, then
// a key-up. (chromedp.KeyEvent sends the text as an event of its own, which a page
// cannot cancel: an Enter that picks an option would also send the form.)
func press(key rune) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var down, up input.DispatchKeyEventParams
		for _, e := range kb.Encode(key) {
			switch e.Type {
			case kb.KeyDown:
				down = *e
			case kb.KeyChar:
				down.Text, down.UnmodifiedText = e.Text, e.UnmodifiedText
			case kb.KeyUp:
				up = *e
			}
		}
		for _, e := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// scripts turns the page's JavaScript off or on. Pages loaded while it is off stay
// as they were sent, even after it is turned on again.
func scripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// evalOn runs JavaScript on the page and returns its value, failing the test on an error.
func evalOn[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestTheCouncilPickerInABrowser(t *testing.T) {
	s := newSite(t, nil)
	b := newBrowser(t)
	email := testenv.Address("picker")

	b.do("open the form", chromedp.Navigate(s.URL+"/join"), waitFor("Your details"), waitUntil("the council picker", enhanced))
	// The select is still there, hidden, and is what the form sends; the text box took
	// its id, so the label and the error summary's link reach the box.
	if !evalOn[bool](b, `getComputedStyle(document.getElementById("council-select")).display === "none" && document.getElementById("council-select").name === "council"`) {
		t.Fatal("the council select is not kept, hidden, in the form")
	}
	if got := evalOn[string](b, `document.querySelector('label[for="council"]') && document.getElementById("council").value`); got != "" {
		t.Errorf("the box starts with %q, want it empty", got)
	}
	if describedBy := evalOn[string](b, `document.getElementById("council").getAttribute("aria-describedby") || ""`); !strings.Contains(describedBy, "council-hint") {
		t.Errorf("the box is described by %q, want the hint (council-hint) in it", describedBy)
	}
	b.checkAccessibility("your details, with the council picker")

	// Every option, "My organisation is not a council" first, as in the select.
	b.do("open the list", chromedp.Click(chromedp.ID("council")), waitUntil("the list is open", `document.querySelectorAll("#council__listbox [role=option]").length > 300`))
	if first := evalOn[string](b, `document.querySelector("#council__listbox [role=option]").textContent.trim()`); first != "My organisation is not a council" {
		t.Errorf("the list starts with %q, want My organisation is not a council", first)
	}
	b.checkAccessibility("your details, with the council list open")

	// Errors: the box shows the error as the select did.
	b.do("send the empty form", chromedp.Click(chromedp.CSS("form button[type=submit]")), waitFor("There is a problem"), waitUntil("the council picker", enhanced))
	if !evalOn[bool](b, `document.getElementById("council").closest(".govuk-form-group").classList.contains("govuk-form-group--error")`) {
		t.Error("the council field does not show its error")
	}
	if describedBy := evalOn[string](b, `document.getElementById("council").getAttribute("aria-describedby") || ""`); !strings.Contains(describedBy, "council-hint") || !strings.Contains(describedBy, "council-error") {
		t.Errorf("the box is described by %q, want the hint and the error (council-hint council-error) in it", describedBy)
	}
	if !evalOn[bool](b, `document.querySelector('.govuk-error-summary a[href="#council"]') !== null && document.querySelector("#council").tagName === "INPUT"`) {
		t.Error("the error summary's link does not lead to the council box")
	}
	b.checkAccessibility("your details, with errors, with the council picker")

	// Type "birm", pick Birmingham with the keyboard, and send.
	b.do("type birm",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("council"), "birm"),
		waitUntil("the list offers Birmingham", `[...document.querySelectorAll("#council__listbox [role=option]")].some(o => o.textContent.trim() === "Birmingham City Council")`),
	)
	// The hint and error stay on the box while it is typed in.
	if describedBy := evalOn[string](b, `document.getElementById("council").getAttribute("aria-describedby") || ""`); !strings.Contains(describedBy, "council-error") {
		t.Errorf("while typing, the box is described by %q, want the error (council-error) in it", describedBy)
	}
	b.checkAccessibility("your details, with the matches for birm")
	b.do("pick Birmingham", press([]rune(kb.ArrowDown)[0]), press('\r'),
		waitUntil("the box shows Birmingham", `document.getElementById("council").value === "Birmingham City Council"`))
	if got := evalOn[string](b, `document.getElementById("council-select").value`); got != "BIR" {
		t.Fatalf("after picking Birmingham the select's value is %q, want BIR", got)
	}
	// A chosen council stays chosen when the form comes back with another error.
	// The page before says "Enter your full name" too: mark it, and wait for the new one.
	b.do("send without a name", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[string](`document.body.dataset.old = "yes"`)(ctx, tg)
		return err
	}), chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitUntil("the page sent back", `!document.body.dataset.old`), waitFor("Enter your full name"), waitUntil("the council picker", enhanced))
	if got := evalOn[string](b, `document.getElementById("council").value + " " + document.getElementById("council-select").value`); got != "Birmingham City Council BIR" {
		t.Fatalf("back with an error, the council picker shows and sends %q, want Birmingham City Council BIR", got)
	}
	b.do("continue", chromedp.SendKeys(chromedp.ID("name"), "Katherine Johnson"), chromedp.Click(chromedp.CSS("form button[type=submit]")), waitFor("Which peer groups do you want to join?"))
	if !evalOn[bool](b, `document.querySelector('input[value="midlands"]').checked`) {
		t.Error("the Midlands group is not ticked for a Birmingham council")
	}
	b.do("send", chromedp.Click(chromedp.CSS("form button.govuk-button:not(.govuk-button--secondary)")), waitFor("Check your email"))
	person, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil || person.Signup == nil {
		t.Fatalf("no sign-up stored: %v", err)
	}
	if got := person.Signup.Profile.CouncilCode; got != "BIR" {
		t.Errorf("the sign-up's council is %q, want BIR (Birmingham)", got)
	}

	// What the box shows is what is sent: a chosen council, emptied, is not sent.
	b.do("open the form again", chromedp.Navigate(s.URL+"/join"), waitFor("Your details"))
	b.do("choose Manchester, then change the box to a name not on the list",
		chromedp.SendKeys(chromedp.ID("name"), "Katherine Johnson"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chooseCouncil("manch", "Manchester City Council"),
		chromedp.Focus(chromedp.ID("council")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("council").select()`),
		chromedp.SendKeys(chromedp.ID("council"), "Nowhere at all"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitFor("There is a problem"),
	)
	if text := b.text(); !strings.Contains(text, "Select your council") {
		t.Errorf("a name not on the list was not refused:\n%s", text)
	}

	// The council sign-up form has the same picker.
	contact := testenv.Address("picker-contact")
	b.do("sign Leeds up",
		chromedp.Navigate(s.URL+"/councils/sign-up"), waitFor("Sign your council up"),
		chooseCouncil("leeds", "Leeds City Council"),
		chromedp.SendKeys(chromedp.ID("name"), "Mary Jackson"),
		chromedp.SendKeys(chromedp.ID("email"), contact),
		chromedp.SendKeys(chromedp.ID("role"), "Head of Digital"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Check your email"),
	)
	if _, err := s.App.Stores.Register.PendingRegistration(context.Background(), contact, "LDS"); err != nil {
		t.Errorf("no sign-up stored for Leeds (LDS): %v", err)
	}
}

func TestTheCouncilPickerWithoutJavaScript(t *testing.T) {
	s := newSite(t, nil)
	b := newBrowser(t)
	email := testenv.Address("picker-nojs")

	b.do("open the form without JavaScript", scripts(false), chromedp.Navigate(s.URL+"/join"), waitFor("Your details"))
	if tag := evalOn[string](b, `document.getElementById("council").tagName + (document.querySelector("[role=combobox]") ? " and a combobox" : "")`); tag != "SELECT" {
		t.Fatalf("without JavaScript the council field is %s, want the SELECT alone", tag)
	}
	if first := evalOn[string](b, `document.getElementById("council").options[1].textContent`); first != "My organisation is not a council" {
		t.Errorf("the first choice is %q, want My organisation is not a council", first)
	}
	// axe-core needs JavaScript: turn it on for axe, after the page has loaded without.
	b.do("turn JavaScript on for axe", scripts(true))
	b.checkAccessibility("your details, without JavaScript")
	if evalOn[bool](b, `document.querySelector("[role=combobox]") !== null`) {
		t.Fatal("the page was enhanced after all")
	}
	b.do("turn JavaScript off again", scripts(false))
	b.do("fill in the details",
		chromedp.SendKeys(chromedp.ID("name"), "Dorothy Vaughan"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SetValue(chromedp.ID("council"), "BIR"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitFor("Which peer groups do you want to join?"),
	)
	b.do("send", chromedp.Click(chromedp.CSS("form button.govuk-button:not(.govuk-button--secondary)")), waitFor("Check your email"))
	person, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil || person.Signup == nil {
		t.Fatalf("no sign-up stored: %v", err)
	}
	if got := person.Signup.Profile.CouncilCode; got != "BIR" {
		t.Errorf("the sign-up's council is %q, want BIR (Birmingham)", got)
	}
}
