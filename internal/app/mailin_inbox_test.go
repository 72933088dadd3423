package app_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/mailin"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// auditActions returns the actions of the audit trail on a target.
func (s *mailSite) auditActions(target string) []string {
	s.t.Helper()
	entries, _, err := s.App.Services.Network.AuditTrail(context.Background(), pg.Caller{Email: s.admin, Admin: true}, "")
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Target == target {
			out = append(out, e.Action)
		}
	}
	return out
}

// A facilitator's inbox holds their groups' conversations and nothing else: not the
// admins', not another group's, whose page they cannot open either, nor their group's
// spam. An admin sees every one, spam apart; a virus is counted, never listed.
func TestAFacilitatorSeesOnlyTheirGroupsConversations(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	fac := testenv.Address("inbox-fac")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: s.admin, Admin: true}, "midlands", fac); err != nil {
		t.Fatal(err)
	}
	theirs := s.receive(simple(testenv.Address("m1"), "Venue in Derby", "Is it step-free?"), "ses-inbox-1", "midlands@"+groupsDomain).Conversation
	other := s.receive(simple(testenv.Address("m2"), "London venue", "Where is it?"), "ses-inbox-2", "london@"+groupsDomain).Conversation
	admins := s.receive(simple(testenv.Address("m3"), "A question", "Who runs this?"), "ses-inbox-3").Conversation
	virus := s.receive(simple(testenv.Address("m4"), "Invoice", "Open the file", "X-SES-Virus-Verdict: FAIL"), "ses-inbox-4", "midlands@"+groupsDomain).Conversation
	if virus.Status != pg.ConversationQuarantined {
		t.Fatalf("the virus: %+v", virus)
	}
	spam := s.receive(simple(testenv.Address("m5"), "Cheap pills", "Buy now", "X-SES-Spam-Verdict: FAIL"), "ses-inbox-5", "midlands@"+groupsDomain).Conversation
	if spam.Status != pg.ConversationSpam {
		t.Fatalf("the spam: %+v", spam)
	}

	f := s.as(fac)
	r := f.get("/admin/inbox")
	if r.Status != http.StatusOK {
		t.Fatalf("the facilitator's inbox: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, theirs.Ref, "Venue in Derby", "1 message was quarantined")
	for _, ref := range []string{other.Ref, admins.Ref, virus.Ref, spam.Ref} {
		if strings.Contains(r.Body, ref) {
			t.Errorf("the Midlands' facilitator sees %s", ref)
		}
	}
	if r := f.get("/admin/inbox/" + other.Ref); r.Status != http.StatusNotFound {
		t.Errorf("the Midlands' facilitator opens London's conversation: %d", r.Status)
	}
	if r := f.get("/admin/inbox/" + theirs.Ref); r.Status != http.StatusOK || !strings.Contains(r.Body, "Is it step-free?") {
		t.Errorf("the Midlands' facilitator opens their own: %d", r.Status)
	}

	a := s.as(s.admin)
	r = a.get("/admin/inbox")
	mustContain(t, r.Body, theirs.Ref, other.Ref, admins.Ref, spam.Ref, "Cheap pills")
	if strings.Contains(r.Body, virus.Ref) {
		t.Error("the quarantined conversation is listed")
	}
	if r := a.get("/admin/inbox/" + virus.Ref); r.Status != http.StatusNotFound {
		t.Errorf("the quarantined conversation opens: %d", r.Status)
	}
}

// An admin's reply goes to the sender from the service, threaded to their message,
// in the conversation's subject with its reference, marked as ours but not as
// automatic (a person wrote it); it is recorded in the conversation, shown escaped,
// the conversation waits for the sender, and the audit trail has it.
func TestAReplyFromTheConsoleIsThreadedAndRecorded(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("asker")
	raw := simple(sender, "When <b>is</b> the next meeting?", "Hello, <script>alert(1)</script> when do you meet?")
	c := s.receive(raw, "ses-reply-1").Conversation
	msgID := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(strings.SplitN(string(raw), "Message-ID: ", 2)[1], "\r\n", 2)[0], "<"), ">")

	a := s.as(s.admin)
	page := a.get("/admin/inbox/" + c.Ref)
	if page.Status != http.StatusOK {
		t.Fatalf("the conversation: %d", page.Status)
	}
	mustContain(t, page.Body, "When &lt;b&gt;is&lt;/b&gt; the next meeting?", "&lt;script&gt;alert(1)&lt;/script&gt;", "a question for the team")
	if strings.Contains(page.Body, "<script>alert(1)") {
		t.Fatal("the sender's text is in the page raw")
	}
	r := a.post("/admin/inbox/"+c.Ref+"/reply", url.Values{"version": {versionOn(t, page.Body)}, "reply": {"We meet on 3 December.\n\nBring a <friend>."}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", r.Status, r.Body)
	}
	mail := testenv.Mail(t, sender)
	if len(mail) != 2 {
		t.Fatalf("%d emails to the sender, want the acknowledgement and the reply", len(mail))
	}
	reply := mail[1]
	if reply.Subject != "Re: When <b>is</b> the next meeting? ["+c.Ref+"]" {
		t.Errorf("subject %q", reply.Subject)
	}
	for name, want := range map[string]string{"Auto-Submitted": "", "X-Auto-Response-Suppress": "OOF, AutoReply", mailin.LoopHeader: "1", "In-Reply-To": "<" + msgID + ">", "References": "<" + msgID + ">"} {
		if got := reply.Header(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(reply.Body.Text, "We meet on 3 December.") || !strings.Contains(reply.Body.Text, c.Ref) {
		t.Errorf("the reply's text:\n%s", reply.Body.Text)
	}
	page = a.get(r.Header.Get("Location"))
	mustContain(t, page.Body, "Your reply has been sent.", "Our reply, by "+s.admin, "Bring a &lt;friend&gt;.", "Waiting")
	conv, err := s.App.Stores.MailIn.Conversation(context.Background(), c.Ref)
	if err != nil || conv.Status != pg.ConversationWaiting || conv.Messages != 2 {
		t.Fatalf("the conversation after the reply: %+v %v", conv, err)
	}
	if got := s.auditActions(c.Ref); !slices.Contains(got, "reply to mail") {
		t.Errorf("audit trail of %s: %v", c.Ref, got)
	}
	// The sender answers: the conversation is new again.
	s.Clock.Add(2 * time.Hour)
	again := s.receive(simple(sender, "Re: When is the next meeting? ["+c.Ref+"]", "Thank you"), "ses-reply-2").Conversation
	if again.Ref != c.Ref || again.Status != pg.ConversationNew {
		t.Errorf("the sender's answer: %+v", again)
	}
}

// Two admins open the same conversation; one closes it; the other's reply, from the
// page read before, is refused with words, keeps what they typed, and sends nothing.
func TestAStaleFormIsRefusedWithWordsAndLosesNothing(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	second := testenv.Address("second-admin")
	if err := s.App.Services.Network.SetAdmin(context.Background(), pg.Caller{Email: s.admin, Admin: true}, second, true); err != nil {
		t.Fatal(err)
	}
	sender := testenv.Address("twice")
	c := s.receive(simple(sender, "A question", "Hello?"), "ses-stale-1").Conversation
	a, b := s.as(s.admin), s.as(second)
	pageA, pageB := a.get("/admin/inbox/"+c.Ref), b.get("/admin/inbox/"+c.Ref)
	if r := a.post("/admin/inbox/"+c.Ref+"/close", url.Values{"version": {versionOn(t, pageA.Body)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("close: %d\n%s", r.Status, r.Body)
	}
	r := b.post("/admin/inbox/"+c.Ref+"/reply", url.Values{"version": {versionOn(t, pageB.Body)}, "reply": {"My careful answer"}})
	if r.Status != http.StatusConflict {
		t.Fatalf("a stale reply: %d, want 409", r.Status)
	}
	mustContain(t, r.Body, "Someone else changed this conversation after you opened it", ">My careful answer</textarea>", "Done")
	if n := len(testenv.Mail(t, sender)); n != 1 {
		t.Errorf("%d emails to the sender, want only the acknowledgement", n)
	}
	for _, action := range []string{"class", "assign", "close"} {
		r := b.post("/admin/inbox/"+c.Ref+"/"+action, url.Values{"version": {versionOn(t, pageB.Body)}, "class": {"join"}, "group": {"london"}})
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Someone else changed this conversation") {
			t.Errorf("a stale %s: %d", action, r.Status)
		}
	}
	conv, err := s.App.Stores.MailIn.Conversation(context.Background(), c.Ref)
	if err != nil || conv.Status != pg.ConversationDone || conv.Class != pg.MailQuestion || conv.Group != "" {
		t.Errorf("after the stale forms: %+v %v", conv, err)
	}
}

// Reclassifying, assigning and closing move the conversation, each in the audit
// trail: a data-protection request gets its deadline; assigned to the Midlands, it is
// in their facilitator's inbox; closed, it is listed as done.
func TestReclassifyAssignAndCloseAConversation(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	fac := testenv.Address("assign-fac")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: s.admin, Admin: true}, "midlands", fac); err != nil {
		t.Fatal(err)
	}
	c := s.receive(simple(testenv.Address("who"), "Records", "What do you keep about people?"), "ses-act-1").Conversation
	a := s.as(s.admin)
	step := func(action string, form url.Values) string {
		t.Helper()
		form.Set("version", versionOn(t, a.get("/admin/inbox/"+c.Ref).Body))
		r := a.post("/admin/inbox/"+c.Ref+"/"+action, form)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", action, r.Status, r.Body)
		}
		return a.get(r.Header.Get("Location")).Body
	}
	if r := a.post("/admin/inbox/"+c.Ref+"/class", url.Values{"version": {"1"}, "class": {"nonsense"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Select what the message asks for") {
		t.Errorf("an unknown class: %d", r.Status)
	}
	page := step("class", url.Values{"class": {"data-request"}})
	mustContain(t, page, "The conversation has been reclassified.", "a data-protection request", "answer it by")
	if strings.Contains(s.as(fac).get("/admin/inbox").Body, c.Ref) {
		t.Error("the facilitator sees the admins' conversation")
	}
	if r := a.post("/admin/inbox/"+c.Ref+"/assign", url.Values{"version": {versionOn(t, page)}, "group": {"atlantis"}}); r.Status != http.StatusBadRequest {
		t.Errorf("assigned to a group that does not exist: %d", r.Status)
	}
	page = step("assign", url.Values{"group": {"midlands"}})
	mustContain(t, page, "The conversation has been assigned.", "The facilitators of")
	if body := s.as(fac).get("/admin/inbox").Body; !strings.Contains(body, c.Ref) {
		t.Error("assigned to the Midlands, the conversation is not in their facilitator's inbox")
	}
	page = step("close", url.Values{})
	mustContain(t, page, "The conversation has been closed.")
	inbox := a.get("/admin/inbox").Body
	done := inbox[strings.Index(inbox, `id="done"`):]
	if !strings.Contains(done[:strings.Index(done, `id="spam"`)], c.Ref) {
		t.Error("the closed conversation is not listed as done")
	}
	got := s.auditActions(c.Ref)
	for _, want := range []string{"reclassify mail", "assign mail", "close mail"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit trail of %s: %v, without %q", c.Ref, got, want)
		}
	}
}

// Someone whose address is on our suppression list (here: erased, on a data-protection
// request) writes to us again. The automatic acknowledgement is not sent, but the reply
// a person writes to them is: they asked us something.
func TestAReplyReachesASenderOnTheSuppressionList(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("erased-asker")
	a := s.as(s.admin)
	if r := a.post("/admin/privacy/erase", url.Values{"email": {sender}}); r.Status != http.StatusOK {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	c := s.receive(simple(sender, "Can I join again?", "I left last year. Can I come back?"), "ses-erased-1").Conversation
	if got := testenv.Mail(t, sender); len(got) != 0 {
		t.Fatalf("%d emails to an erased address before anyone answered, want none (no acknowledgement)", len(got))
	}
	page := a.get("/admin/inbox/" + c.Ref)
	r := a.post("/admin/inbox/"+c.Ref+"/reply", url.Values{"version": {versionOn(t, page.Body)}, "reply": {"Yes: sign up again on the website."}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", r.Status, r.Body)
	}
	mail := testenv.Mail(t, sender)
	if len(mail) != 1 || !strings.Contains(mail[0].Body.Text, "sign up again on the website") {
		t.Fatalf("%d emails to the sender, want the reply", len(mail))
	}
}
