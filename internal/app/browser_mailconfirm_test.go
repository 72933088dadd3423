package app_test

import (
	"context"
	"net/smtp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3mail"
	"github.com/peergroups/peergroups/internal/testenv"
)

// The whole journey of a request by mail, through the local SMTP listener (the inbound
// function's handler behind it): a message asking to join the Midlands becomes a
// conversation in the admin's inbox; the sender's acknowledgement carries the
// reference and the join confirmation link, and following it in a browser makes them
// a member; their reply to the acknowledgement joins the same conversation; the admin
// answers it from the console and closes it. axe checks every page.
func TestAJoinRequestByMailFromTheSMTPListenerToMembershipInABrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsCfg := testenv.AWSConfig(t)
	s3c := s3exports.NewClient(awsCfg)
	bucket := testenv.Bucket(t, s3c)
	admin := testenv.Address("smtp-admin")
	s := newSite(t, map[string]string{"RECEIVING_BUCKET": bucket, "ADMIN_ADDRESS": adminAddress, "GROUPS_MAIL_DOMAIN": groupsDomain, "ADMIN_EMAILS": admin})
	in, handler, err := receiving.New(s.Config, app.NewClients(awsCfg), s3c, testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	l, err := devstack.StartMailListener(devstack.MailListenerOptions{
		Addr: "127.0.0.1:0", Accept: in.Accepts, Store: s3mail.New(s3c, bucket).PutRawMessage, Handle: handler.Handle,
		Prefix: s.Config.ReceivingPrefix, Log: testenv.Logger(t), MaxBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })

	sender := testenv.Address("smtp-joiner")
	if err := smtp.SendMail(l.Addr, nil, sender, []string{adminAddress}, message(t, "join-request.eml", sender)); err != nil {
		t.Fatal(err)
	}
	acks := testenv.MailEventually(t, sender, 1)
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	ack := acks[0]
	ref := pg.FindMailReference(ack.Subject)
	if ref == "" || ack.Subject != "Re: Joining the Midlands group ["+ref+"]" {
		t.Fatalf("the acknowledgement's subject %q has no reference", ack.Subject)
	}
	link := testenv.Link(t, ack.Body.Text, "/join/confirm")
	if p, err := s.App.Stores.People.Person(ctx, sender); err != nil || p.IsMember("midlands") {
		t.Fatalf("a member before following the link: %v", err)
	}

	b := newBrowser(t)
	b.do("open the home page", chromedp.Navigate(s.URL+"/"), waitFor("midlands@"+groupsDomain))
	b.checkAccessibility("home, with the groups' addresses")
	b.signIn(t, s, admin, "Create a group")
	b.do("open the inbox", chromedp.Navigate(s.URL+"/admin/inbox"), waitFor(ref))
	b.checkAccessibility("inbox, with the request by mail")
	b.do("open the conversation", chromedp.Click(chromedp.CSS(`main a[href="/admin/inbox/`+ref+`"]`)), waitFor("Please add me to the Midlands group."))
	b.checkAccessibility("conversation, the request")

	// The sender follows the link from their acknowledgement.
	b.do("follow the confirmation link", chromedp.Navigate(link), waitFor("Confirm that you want to join"))
	b.checkAccessibility("confirm, from the acknowledgement")
	if text := b.text(); !strings.Contains(text, "Midlands") || !strings.Contains(text, "Sam Jones") {
		t.Errorf("the confirmation page does not show the group and the name:\n%s", text)
	}
	b.do("confirm", chromedp.Click(chromedp.CSS(`form[action="/join/confirm"] button`)), waitFor("You have joined"))
	b.checkAccessibility("you have joined, from mail")
	if p, err := s.App.Stores.People.Person(ctx, sender); err != nil || !p.IsMember("midlands") {
		t.Fatalf("not a member of the Midlands after following the link: %v", err)
	}

	// They reply to the acknowledgement: it joins the conversation.
	reply := "From: Sam Jones <" + sender + ">\r\nTo: " + adminAddress + "\r\nSubject: Re: " + ack.Subject + "\r\nMessage-ID: <reply-" + testenv.RandomID() + "@leeds.gov.uk>\r\n" +
		"In-Reply-To: <" + ack.MessageID + ">\r\nReferences: <CAB1234@mail.leeds.gov.uk> <" + ack.MessageID + ">\r\n\r\n" +
		"Thank you, I have confirmed. Is there a meeting soon?\r\n\r\nOn Thu, 26 Nov 2026, Peer Groups wrote:\r\n> We have your message\r\n"
	if err := smtp.SendMail(l.Addr, nil, sender, []string{adminAddress}, []byte(reply)); err != nil {
		t.Fatal(err)
	}
	c, err := s.App.Stores.MailIn.Conversation(ctx, ref)
	if err != nil || c.Messages != 2 {
		t.Fatalf("the reply to the acknowledgement: %+v %v, want the conversation's second message", c, err)
	}
	b.do("open the conversation again", chromedp.Navigate(s.URL+"/admin/inbox/"+ref), waitFor("Is there a meeting soon?"))
	b.checkAccessibility("conversation, with the reply")
	b.do("answer it",
		chromedp.SendKeys(chromedp.ID("reply"), "Yes: the next round is in January. Welcome!"),
		chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)),
		waitFor("Your reply has been sent."),
	)
	b.checkAccessibility("conversation, answered")
	b.do("close it", chromedp.Click(chromedp.CSS(`form[action$="/close"] button`)), waitFor("The conversation has been closed."))
	b.checkAccessibility("conversation, closed")

	answer := testenv.LastMail(t, sender)
	if !strings.Contains(answer.Body.Text, "the next round is in January") || !strings.Contains(answer.Subject, "["+ref+"]") {
		t.Errorf("the admin's answer: %q\n%s", answer.Subject, answer.Body.Text)
	}
	if c, _ := s.App.Stores.MailIn.Conversation(ctx, ref); c.Status != pg.ConversationDone {
		t.Errorf("the conversation is %s, want done", c.Status)
	}
}
