package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A round is published to members including a bouncing and a complaining address (the
// mailbox simulator's); SES's events arrive; the facilitator sees their group's
// counts (and no addresses), the admin each recipient's status and why, and the
// round's rates; at the next round the bouncing address is skipped as suppressed and
// the complaining one is no longer a member.
func TestDeliveryFiguresOnTheRoundPagesAndSuppressionAtTheNextSendInABrowser(t *testing.T) {
	t.Parallel()
	f := newRoundWith(t, 1, map[string]string{})
	ctx := context.Background()
	label := strings.ToLower(testenv.RandomID())
	bouncing := fmt.Sprintf("bounce+%s@%s", label, devstack.SimulatorDomain)
	complaining := fmt.Sprintf("complaint+%s@%s", label, devstack.SimulatorDomain)
	f.s.addMemberAt(t, "london", bouncing, "Bo Unce")
	f.s.addMemberAt(t, "london", complaining, "Cam Plain")
	_, handler, err := feedbacking.New(f.s.Config, app.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	a := f.announcer(t, nil, "")
	ses := &simulatedSES{inner: a.Mailer, handler: handler}
	a.Mailer = ses
	if err := a.Run(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := ses.deliver(ctx); err != nil { // SES's events for round 1
		t.Fatal(err)
	}

	b := newBrowser(t)
	fac := f.facilitators["london"]
	b.signIn(t, f.s, fac, "Your groups")
	b.do("open the group's round", chromedp.Navigate(f.s.URL+"/facilitate/london/rounds/1"), waitFor("The announcement to your group’s members"))
	b.checkAccessibility("facilitator, round with delivery figures")
	page := b.text()
	// London: the fixture's member (suppressed), the one who left, and the two simulator addresses.
	for _, want := range []string{"Sent\t2", "Delivered\t1", "Bounced\t1", "Not sent: on the suppression list\t1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the facilitator's page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, label) {
		t.Error("the facilitator's page shows the recipients' addresses")
	}
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/sign-out"] button`)), waitFor("Sign in"))

	// The next round: the bouncing address is suppressed, the complaining one has left.
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, pg.London)
	if err := f.s.App.Services.Rounds.CreateRound(ctx, f.admin, pg.Round{Number: 2, Title: "Accessibility", Summary: "Audits.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	day := start.AddDate(0, 0, 7)
	if err := f.s.App.Services.Rounds.SetEvent(ctx, f.admin, pg.Event{Round: 2, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: "City Hall", Capacity: 30}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.App.Services.Rounds.Publish(ctx, f.admin, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx, 2); err != nil {
		t.Fatal(err)
	}

	b.signIn(t, f.s, f.admin.Email, "Create a group")
	b.do("open round 1", chromedp.Navigate(f.s.URL+"/admin/rounds/1"), waitFor("What became of the emails"))
	b.checkAccessibility("admin, round with delivery figures")
	page = b.text()
	for _, want := range []string{
		bouncing, "Bounced", "permanent bounce; General; 5.1.1; smtp; 550 5.1.1 user unknown",
		complaining, "Complained about", "complaint; abuse",
		"Bounce rate", "SES reviews an account whose bounce rate reaches 5%", "Complaint rate", "reaches 0.1%",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin's round 1 page lacks %q:\n%s", want, page)
		}
	}
	b.do("open round 2", chromedp.Navigate(f.s.URL+"/admin/rounds/2"), waitFor("Each recipient"))
	b.checkAccessibility("admin, the next round")
	page = b.text()
	if !strings.Contains(page, bouncing+"\tAnnouncement, london\tNot sent: suppressed") {
		t.Errorf("round 2 does not show the bouncing address skipped as suppressed:\n%s", page)
	}
	if strings.Contains(page, complaining) {
		t.Errorf("round 2 was sent to the address that complained:\n%s", page)
	}
	if n := len(testenv.Mail(t, bouncing)) + len(testenv.Mail(t, complaining)); n != 2 {
		t.Errorf("the simulator's addresses were sent %d emails over two rounds, want one each", n)
	}
}
