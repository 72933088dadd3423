package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/testenv"
)

// A message is received; the admin finds it in the inbox, opens it, replies and
// closes it, in a browser without JavaScript, axe checking each page; the reply
// reaches the sender in the same thread.
func TestAnsweringMailFromTheInboxInABrowser(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("browser-sender")
	raw := simple(sender, "Can we start a group in the North East?", "We have five officers keen to meet.")
	c := s.receive(raw, "ses-browser-1").Conversation
	b := newBrowser(t)

	b.signIn(t, s.site, s.admin, "Create a group")
	b.do("open the inbox", chromedp.Click(chromedp.CSS(`nav a[href="/admin/inbox"]`)), waitFor(c.Ref))
	b.checkAccessibility("inbox")
	b.do("open the conversation", chromedp.Click(chromedp.CSS(`main a[href="/admin/inbox/`+c.Ref+`"]`)), waitFor("We have five officers keen to meet."))
	b.checkAccessibility("conversation")
	if text := b.text(); !strings.Contains(text, "to start a group") || !strings.Contains(text, "start a group") {
		t.Errorf("the conversation does not say its class and why:\n%s", text)
	}
	b.do("send an empty reply", chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)), waitFor("Enter your reply"))
	b.checkAccessibility("conversation, reply with an error")
	b.do("reply",
		chromedp.SendKeys(chromedp.ID("reply"), "Yes: propose it on the website and we will help."),
		chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)),
		waitFor("Your reply has been sent."),
	)
	b.checkAccessibility("conversation, replied")
	b.do("close it", chromedp.Click(chromedp.CSS(`form[action$="/close"] button`)), waitFor("The conversation has been closed."))
	b.checkAccessibility("conversation, closed")

	mail := testenv.Mail(t, sender)
	if len(mail) != 2 {
		t.Fatalf("%d emails to the sender, want the acknowledgement and the reply", len(mail))
	}
	reply := mail[1]
	if !strings.Contains(reply.Body.Text, "propose it on the website") || reply.Subject != "Re: Can we start a group in the North East? ["+c.Ref+"]" || reply.Header("In-Reply-To") == "" || reply.Header("In-Reply-To") != mail[0].Header("In-Reply-To") {
		t.Errorf("the reply: %q, In-Reply-To %q (the acknowledgement's %q)\n%s", reply.Subject, reply.Header("In-Reply-To"), mail[0].Header("In-Reply-To"), reply.Body.Text)
	}
}
