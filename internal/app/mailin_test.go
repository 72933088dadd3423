package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/mailin"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3mail"
	"github.com/peergroups/peergroups/internal/testenv"
)

const (
	adminAddress = "admin@peergroups.example.org"
	groupsDomain = "groups.peergroups.example.org"
)

// mailSite is a site with its mail-in service, composed as the inbound function does.
type mailSite struct {
	*site
	in    *pg.MailIn
	admin string
}

func newMailSite(t *testing.T) *mailSite {
	t.Helper()
	admin := testenv.Address("mail-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	// Noon today: a sender is acknowledged at most once a day, so a test that moves the
	// clock on minutes must not cross midnight (it did, run at 23:50).
	now := s.Clock.Now().UTC()
	s.Clock.Set(time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC))
	return mailSiteOn(s, admin)
}

// mailSiteOn is a site's mail-in service, composed as the inbound function does.
func mailSiteOn(s *site, admin string) *mailSite {
	svc := s.App.Services
	in := &pg.MailIn{
		Env: svc.Memberships.Env, Store: s.App.Stores.MailIn, Network: svc.Network, People: s.App.Stores.Network,
		Admins: s.Config.Admins, Admin: adminAddress, Domain: groupsDomain, Ours: []string{"peergroups@example.org"},
		Pseudonym: svc.Memberships.Limiter.Pseudonym, Sent: s.App.Stores.MailIn,
		Confirm: pg.MailConfirm{Signups: s.App.Stores.Memberships, Registrations: s.App.Stores.Register, Councils: svc.Memberships.Councils},
	}
	return &mailSite{site: s, in: in, admin: admin}
}

// message is a raw email from one of events/mail's examples, from another address.
func message(t *testing.T, name, from string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(), "events", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{"sam.jones@leeds.gov.uk", "Sam.Jones@leeds.gov.uk", "p.khan@camden.gov.uk", "j.smith@kent.gov.uk", "a.patel@birmingham.gov.uk"} {
		raw = []byte(strings.ReplaceAll(string(raw), old, from))
	}
	return raw
}

// receive delivers a raw message as SES would, with a message ID, to recipients.
func (s *mailSite) receive(raw []byte, sesID string, to ...string) pg.MailReceipt {
	s.t.Helper()
	m, err := mailin.Parse(raw)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(to) == 0 {
		to = []string{adminAddress}
	}
	r, err := s.in.Receive(context.Background(), m.Inbound(sesID, "inbound/"+sesID, to, s.Clock.Now()))
	if err != nil {
		s.t.Fatalf("receive %s: %v", sesID, err)
	}
	return r
}

func simple(from, subject, body string, headers ...string) []byte {
	return []byte("From: " + from + "\r\nReturn-Path: <" + from + ">\r\nTo: " + adminAddress + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + testenv.RandomID() + "@example.org>\r\n" +
		strings.Join(append(headers, ""), "\r\n") + "\r\n" + body + "\r\n")
}

// A person writes to the admin address asking to join the Midlands: they get one
// acknowledgement with a reference, threaded, marked so that no machine answers it,
// with the join confirmation link; the admins are told, with a link to the conversation.
// The same message delivered again by SES changes nothing and sends nothing.
func TestAJoinRequestByMailIsAcknowledgedOnceWithAReferenceAndTheAdminsAreTold(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("sam")
	raw := message(t, "join-request.eml", sender)
	r := s.receive(raw, "ses-join-1")
	c := r.Conversation
	if !r.Acknowledged || c.Class != pg.MailJoin || c.Named != "midlands" || c.Group != "" || !pg.ValidMailReference(c.Ref) || c.Status != pg.ConversationNew {
		t.Fatalf("receipt %+v", r)
	}
	if again := s.receive(raw, "ses-join-1"); !again.Duplicate {
		t.Fatalf("the same SES message again: %+v, want a duplicate", again)
	}
	acks := testenv.Mail(t, sender)
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	ack := acks[0]
	if ack.Subject != "Re: Joining the Midlands group ["+c.Ref+"]" {
		t.Errorf("subject %q", ack.Subject)
	}
	for name, want := range map[string]string{"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "OOF, AutoReply", mailin.LoopHeader: "1", "In-Reply-To": "<CAB1234@mail.leeds.gov.uk>"} {
		if got := ack.Header(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(ack.Body.Text, "join the Midlands peer group") || !strings.Contains(ack.Body.Text, s.URL+"/join/confirm?token=") {
		t.Errorf("the acknowledgement does not say what was understood with the join confirmation link:\n%s", ack.Body.Text)
	}
	notes := testenv.Mail(t, s.admin)
	if len(notes) != 1 || !strings.Contains(notes[0].Body.Text, s.URL+"/admin/inbox/"+c.Ref) || strings.Contains(notes[0].Body.Text, "I work on our digital team") {
		t.Fatalf("admins' notifications: %d; want one, linking to the conversation, without the mail", len(notes))
	}
}

// Replies that carry the reference join the conversation; the sender is acknowledged
// at most once a day and the admins told at most once an hour. A stranger who uses
// the reference starts a conversation of their own.
func TestRepliesJoinTheirConversationWithoutMoreAcknowledgementsAndStrangersCannotJoinIt(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("priya")
	first := s.receive(simple(sender, "A question", "When is the next meeting?"), "ses-q-1").Conversation
	s.Clock.Add(10 * time.Minute)
	second := s.receive(simple(sender, "Re: A question ["+first.Ref+"]", "Also, is there parking?"), "ses-q-2")
	if second.Conversation.Ref != first.Ref || second.Conversation.Messages != 2 || second.Acknowledged || second.Notified != 0 {
		t.Fatalf("a reply: %+v", second)
	}
	stranger := testenv.Address("stranger")
	other := s.receive(simple(stranger, "Re: A question ["+first.Ref+"]", "Let me in"), "ses-q-3")
	if other.Conversation.Ref == first.Ref {
		t.Fatal("a stranger's message joined someone else's conversation")
	}
	s.Clock.Add(25 * time.Hour)
	third := s.receive(simple(sender, "Re: A question ["+first.Ref+"]", "Any news?"), "ses-q-4")
	if !third.Acknowledged || third.Notified == 0 {
		t.Fatalf("a day later: %+v, want acknowledged and the admins told again", third)
	}
	if n := len(testenv.Mail(t, sender)); n != 2 {
		t.Fatalf("%d acknowledgements over two days, want 2", n)
	}
}

// Machines are never answered: an out-of-office, a bounce report, mail from our own
// address, a virus (quarantined), spam (kept apart), a forged sender whose domain asks
// for rejection. None of them changes anything.
func TestAutomaticSpamVirusAndForgedMailIsKeptButNeverAnswered(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	cases := []struct {
		name, status string
		raw          func(from string) []byte
	}{
		{"out of office", pg.ConversationIgnored, func(from string) []byte { return message(t, "out-of-office.eml", from) }},
		{"bounce report", pg.ConversationIgnored, func(string) []byte { return message(t, "bounce-report.eml", "") }},
		{"our own mail", pg.ConversationIgnored, func(string) []byte { return simple("peergroups@example.org", "Round 12", "Hello") }},
		{"a virus", pg.ConversationQuarantined, func(from string) []byte {
			return simple(from, "Invoice", "Open the attachment", "X-SES-Virus-Verdict: FAIL", "X-SES-Spam-Verdict: PASS")
		}},
		{"spam", pg.ConversationSpam, func(from string) []byte {
			return simple(from, "Cheap pills", "Buy now, add me", "X-SES-Spam-Verdict: FAIL", "X-SES-Virus-Verdict: PASS")
		}},
		{"a forged council", pg.ConversationIgnored, func(from string) []byte {
			return simple(from, "Delete me", "Please delete my data", "Authentication-Results: amazonses.com; spf=fail smtp.mailfrom=camden.gov.uk; dmarc=fail (p=REJECT sp=REJECT pct=100) header.from=camden.gov.uk;")
		}},
	}
	for i, tc := range cases {
		from := testenv.Address("machine")
		r := s.receive(tc.raw(from), fmt.Sprintf("ses-auto-%d", i))
		if r.Acknowledged || r.Conversation.Status != tc.status || r.Conversation.Why == "" {
			t.Errorf("%s: %+v, want %s and not answered, with the reason", tc.name, r, tc.status)
		}
		if n := len(testenv.Mail(t, from)); n != 0 {
			t.Errorf("%s: %d emails sent to its sender", tc.name, n)
		}
	}
}

// A data-protection request is flagged with its one-month deadline, which the admins'
// notification shows; a flood from one sender is answered once, then flagged.
func TestADataRequestHasItsDeadlineAndAFloodIsFlaggedNotAnswered(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	person := testenv.Address("gdpr")
	r := s.receive(simple(person, "Subject access request", "Under GDPR please send me my data."), "ses-dsar")
	want := s.Clock.Now().AddDate(0, 1, 0)
	if r.Conversation.Class != pg.MailDataRequest || !r.Conversation.Deadline.Equal(want) {
		t.Fatalf("%+v, want a data request due %s", r.Conversation, want)
	}
	if note := testenv.LastMail(t, s.admin); !strings.Contains(note.Body.Text, "answer it by "+want.Format("2 January 2006")) {
		t.Errorf("the admins are not told the deadline:\n%s", note.Body.Text)
	}
	flood := testenv.Address("flood")
	var last pg.MailReceipt
	for i := range pg.MailFloodLimit + 3 {
		last = s.receive(simple(flood, fmt.Sprintf("Message %d", i), "Hello again"), fmt.Sprintf("ses-flood-%d", i))
	}
	if !last.Conversation.Flood || last.Acknowledged {
		t.Errorf("the last of a flood: %+v, want flagged and not answered", last)
	}
	if n := len(testenv.Mail(t, flood)); n != 1 {
		t.Errorf("%d acknowledgements to a burst of %d messages from one sender, want 1", n, pg.MailFloodLimit+3)
	}
}

// Mail to a group's address goes to that group's facilitators, not the admins.
func TestMailToAGroupsAddressGoesToItsFacilitators(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	fac := testenv.Address("mid-fac")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: s.admin, Admin: true}, "midlands", fac); err != nil {
		t.Fatal(err)
	}
	r := s.receive(simple(testenv.Address("member"), "Venue", "Is the venue step-free?"), "ses-group-1", "midlands@"+groupsDomain)
	if r.Conversation.Group != "midlands" || r.Notified != 1 {
		t.Fatalf("%+v, want the Midlands' conversation, its facilitator told", r)
	}
	if notes := testenv.Mail(t, fac); len(notes) < 2 || !strings.Contains(notes[len(notes)-1].Body.Text, "/admin/inbox/"+r.Conversation.Ref) {
		t.Errorf("the facilitator was not told (%d emails)", len(notes))
	}
	unknown := s.receive(simple(testenv.Address("member"), "Hi", "Hello"), "ses-group-2", "nobody@"+groupsDomain)
	if unknown.Conversation.Status != pg.ConversationIgnored || unknown.Acknowledged {
		t.Errorf("mail to an unknown address: %+v", unknown)
	}
}

// The inbound function as composed for Lambda reads SES's event (events/inbound-ses.json),
// the raw message the S3 action stored, and answers it; the event delivered again
// answers nothing more; a message SES stored but that is not an email at all is kept
// as unreadable, not dropped; one whose object is missing fails, for Lambda to try again.
func TestTheInboundFunctionHandlesSESsEventFromTheStoredMessage(t *testing.T) {
	t.Parallel()
	awsCfg := testenv.AWSConfig(t)
	s3c := s3exports.NewClient(awsCfg)
	bucket := testenv.Bucket(t, s3c)
	s := newSite(t, map[string]string{"RECEIVING_BUCKET": bucket, "ADMIN_ADDRESS": adminAddress})
	_, handler, err := receiving.New(s.Config, app.NewClients(awsCfg), s3c, testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var event events.SimpleEmailEvent
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "events", "inbound-ses.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &event); err != nil {
		t.Fatal(err)
	}
	sender := testenv.Address("sam")
	event.Records[0].SES.Mail.MessageID = "ses-" + strings.ToLower(testenv.RandomID())
	put := func(key string, body []byte) {
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("inbound/"+event.Records[0].SES.Mail.MessageID, message(t, "join-request.eml", sender))
	for range 2 {
		if err := handler.Handle(context.Background(), event); err != nil {
			t.Fatal(err)
		}
	}
	if acks := testenv.Mail(t, sender); len(acks) != 1 || !strings.HasPrefix(acks[0].Subject, "Re: Joining the Midlands group [PG-") {
		t.Fatalf("%d acknowledgements, want one", len(acks))
	}
	event.Records[0].SES.Mail.MessageID = "ses-garbage-" + strings.ToLower(testenv.RandomID())
	put("inbound/"+event.Records[0].SES.Mail.MessageID, []byte("\x00\x01 not an email"))
	if err := handler.Handle(context.Background(), event); err != nil {
		t.Fatalf("a message that cannot be read: %v, want it kept", err)
	}
	event.Records[0].SES.Mail.MessageID = "ses-missing"
	if err := handler.Handle(context.Background(), event); err == nil {
		t.Fatal("a message missing from the bucket: no error, so Lambda would not try again")
	}
}

// Locally, mail goes through an SMTP listener to the same handler: an unknown address
// is refused at RCPT, a message too big at DATA, and a join request is answered.
func TestTheLocalSMTPListenerRefusesUnknownAddressesAndBigMessagesAndAnswersTheRest(t *testing.T) {
	t.Parallel()
	awsCfg := testenv.AWSConfig(t)
	s3c := s3exports.NewClient(awsCfg)
	bucket := testenv.Bucket(t, s3c)
	s := newSite(t, map[string]string{"RECEIVING_BUCKET": bucket, "ADMIN_ADDRESS": adminAddress, "GROUPS_MAIL_DOMAIN": groupsDomain})
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
	sender := testenv.Address("smtp")
	if err := smtp.SendMail(l.Addr, nil, sender, []string{"nobody@" + groupsDomain}, simple(sender, "Hi", "Hello")); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("mail to an unknown address: %v, want refused with 550", err)
	}
	// A sending server says the size first (ESMTP SIZE): over the limit, it is told so.
	c, err := gosmtp.Dial(l.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(sender, &gosmtp.MailOptions{Size: 2 << 20}); err == nil || !strings.Contains(err.Error(), "552") {
		t.Errorf("a message over the limit: %v, want refused with 552", err)
	}
	c.Close()
	if err := smtp.SendMail(l.Addr, nil, sender, []string{"midlands@" + groupsDomain}, message(t, "join-request.eml", sender)); err != nil {
		t.Fatal(err)
	}
	if acks := testenv.MailEventually(t, sender, 1); len(acks) != 1 || !strings.Contains(acks[0].Subject, "[PG-") {
		t.Fatalf("%d acknowledgements of the mail sent by SMTP, want 1", len(acks))
	}
}

// In AWS, DynamoDB cancels a transaction that meets another on the same item
// (TransactionConflict), and the save is tried again: the sender's counts are taken in
// the save's own transaction, so a save tried again still acknowledges the sender once
// (counted before the transaction, the first try's count made the second think the
// sender had already been answered, and nobody was). A proxy cancels every other one.
func TestAMessageWhoseSaveIsCancelledForAConflictIsAcknowledgedOnce(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	proxy := testenv.NewConflictingDynamo(t, 2)
	dynamo.UseClient(s.App.Store, dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
		o.DisableValidateResponseChecksum = true
	}))
	var senders []string
	for i := range 3 {
		sender := testenv.Address("conflict")
		senders = append(senders, sender)
		r := s.receive(simple(sender, "A question", "When is the next meeting?"), fmt.Sprintf("ses-conflict-%d", i))
		if !r.Acknowledged {
			t.Errorf("message %d was not acknowledged: %+v", i, r)
		}
	}
	if proxy.Cancelled() == 0 {
		t.Fatal("the proxy cancelled no transaction: the test tested nothing")
	}
	for _, sender := range senders {
		if n := len(testenv.Mail(t, sender)); n != 1 {
			t.Errorf("%s got %d acknowledgements, want 1", sender, n)
		}
	}
}
