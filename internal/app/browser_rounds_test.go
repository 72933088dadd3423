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

func TestARoundFromEventToAnswerInABrowser(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "SES_MAX_SEND_RATE": "100", "STREAM": "on"})
	s.followStream(t)
	ctx := context.Background()

	fac := testenv.Address("fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: admin, Admin: true}, "london", fac); err != nil {
		t.Fatal(err)
	}
	member := s.addMember(t, "london", "Ada Lovelace")
	b := newBrowser(t)

	// The admin creates the round.
	b.signIn(t, s, admin, "Create a group")
	b.do("open rounds", chromedp.Navigate(s.URL+"/admin/rounds"), waitFor("Create a round"))
	b.checkAccessibility("admin, rounds")
	b.do("open the form", chromedp.Click(chromedp.CSS(`main a[href="/admin/rounds/new"]`)), waitFor("Round number"))
	b.checkAccessibility("create a round")
	b.do("send it empty", chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	b.checkAccessibility("create a round, with errors")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("number"), "4"),
		chromedp.SendKeys(chromedp.ID("title"), "User research"),
		chromedp.SendKeys(chromedp.ID("summary"), "Talking to residents."),
		chromedp.SendKeys(chromedp.ID("start-day"), "1"), chromedp.SendKeys(chromedp.ID("start-month"), "12"), chromedp.SendKeys(chromedp.ID("start-year"), "2026"),
		chromedp.SendKeys(chromedp.ID("end-day"), "31"), chromedp.SendKeys(chromedp.ID("end-month"), "12"), chromedp.SendKeys(chromedp.ID("end-year"), "2026"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Publish round 4"),
	)
	b.checkAccessibility("admin, draft round")
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/sign-out"] button`)), waitFor("Sign in"))

	// The facilitator sets the event, with an error first.
	b.followSignInLink(t, testenv.Link(t, testenv.LastMail(t, fac).Body.Text, "/sign-in/link"), "Your groups")
	b.do("open the round", chromedp.Navigate(s.URL+"/facilitate/london/rounds/4"), waitFor("Save the event"))
	b.checkAccessibility("event form")
	b.do("send it empty", chromedp.Click(chromedp.CSS("main form button")), waitFor("There is a problem"))
	b.checkAccessibility("event form, with errors")
	b.do("fill it in",
		chromedp.SendKeys(chromedp.ID("date-day"), "9"), chromedp.SendKeys(chromedp.ID("date-month"), "12"), chromedp.SendKeys(chromedp.ID("date-year"), "2026"),
		chromedp.SendKeys(chromedp.ID("start"), "14:00"), chromedp.SendKeys(chromedp.ID("end"), "16:30"),
		chromedp.SendKeys(chromedp.ID("venue"), "Guildhall"), chromedp.SendKeys(chromedp.ID("capacity"), "20"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("The event has been saved"),
	)
	b.checkAccessibility("event saved")
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/sign-out"] button`)), waitFor("Sign in"))

	// The admin previews and publishes, and watches the progress.
	b.signIn(t, s, admin, "Create a group")
	b.do("open the round", chromedp.Navigate(s.URL+"/admin/rounds/4"), waitFor("Guildhall"))
	b.do("preview", chromedp.Click(chromedp.CSS(`a[href="/admin/rounds/4/preview/london"]`)), waitFor("To the members"))
	b.checkAccessibility("preview")
	b.do("back", chromedp.Navigate(s.URL+"/admin/rounds/4"), waitFor("Publish round 4"))
	b.do("publish", chromedp.Click(chromedp.CSS(`form[action="/admin/rounds/4/publish"] button`)), waitFor("Announcements"))
	b.checkAccessibility("round, sending")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(b.text(), "All sent") {
		if time.Now().After(deadline) {
			t.Fatalf("the round's page never said all sent:\n%s", b.text())
		}
		time.Sleep(time.Second) // the page refreshes itself every 5 seconds, without JavaScript
	}
	b.checkAccessibility("round, all sent")

	// The member says "I'm going" from the email.
	var going string
	for _, f := range strings.Fields(testenv.LastMail(t, member).Body.Text) {
		if strings.Contains(f, "/rsvp?answer=going&token=") {
			going = f
		}
	}
	if going == "" {
		t.Fatal("no I'm going link in the announcement")
	}
	b.do("I'm going", chromedp.Navigate(going), waitFor("Are you going?"))
	b.checkAccessibility("rsvp")
	b.do("save", chromedp.Click(chromedp.CSS("main form button")), waitFor("You are going"))
	b.checkAccessibility("rsvp saved")
	b.do("the round's public page", chromedp.Navigate(s.URL+"/rounds/4"), waitFor("Add the London event to your calendar"))
	b.checkAccessibility("public round")
}
