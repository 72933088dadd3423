package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// exampleAnnouncementID is the SES message ID events/mail/announcement-reply.eml
// answers; the tests put the ID of an announcement really sent in its place.
const exampleAnnouncementID = "0102019a-ses-announcement"

// replyTo is events/mail/announcement-reply.eml from a person, answering the email SES
// sent with the message ID sesID (threaded as a mail client threads it: by the
// Message-ID SES gave, <ID@eu-west-2.amazonses.com>).
func replyTo(t *testing.T, from, sesID string) []byte {
	t.Helper()
	return []byte(strings.ReplaceAll(string(message(t, "announcement-reply.eml", from)), exampleAnnouncementID, sesID))
}

// announcementID is the SES message ID of the announcement a member was sent.
func (f *roundFixture) announcementID(t *testing.T, group, email string) string {
	t.Helper()
	ledger, err := f.s.App.Stores.Announcements.Ledger(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range ledger {
		if row.Kind == pg.LedgerAnnouncement && row.Group == group && row.Email == email && row.MessageID != "" {
			return row.MessageID
		}
	}
	t.Fatalf("no announcement was sent to %s of %s", email, group)
	return ""
}

// A member replies to their round announcement (sent through the SES stand-in): the
// reply is a conversation of their group, its facilitators are told (the admins are
// not), and the member gets one acknowledgement; a second reply in the hour is kept
// but not acknowledged again. Someone else pointing their In-Reply-To at that
// announcement is not taken into the group's thread.
func TestAReplyToAnAnnouncementGoesToItsGroupsFacilitators(t *testing.T) {
	t.Parallel()
	f := newRound(t, 2)
	if err := f.announcer(t, nil, "").Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	s := mailSiteOn(f.s, f.admin.Email)
	member, fac := f.members["midlands"][1], f.facilitators["midlands"]
	sesID := f.announcementID(t, "midlands", member)
	if got := testenv.LastMail(t, member); got.MessageID != sesID {
		t.Fatalf("the SES stand-in sent the announcement as %q, the ledger holds %q", got.MessageID, sesID)
	}

	r := s.receive(replyTo(t, member, sesID), "ses-reply-1")
	c := r.Conversation
	if c.Group != "midlands" || c.Class != pg.MailReply || c.Status != pg.ConversationNew || !r.Acknowledged {
		t.Fatalf("the reply: %+v", r)
	}
	acks := testenv.Mail(t, member)
	var ackCount int
	for _, m := range acks {
		if strings.Contains(m.Subject, "["+c.Ref+"]") {
			ackCount++
			mustContain(t, m.Body.Text, "Your reply is with the facilitators of the group (midlands)")
			if m.Header("In-Reply-To") != "<reply-1@birmingham.gov.uk>" {
				t.Errorf("the acknowledgement is not threaded to the reply: In-Reply-To %q", m.Header("In-Reply-To"))
			}
		}
	}
	if ackCount != 1 {
		t.Errorf("%d acknowledgements, want 1", ackCount)
	}
	notes := 0
	for _, m := range testenv.Mail(t, fac) {
		if strings.HasPrefix(m.Subject, "New message "+c.Ref) {
			notes++
			mustContain(t, m.Body.Text, "/admin/inbox/"+c.Ref)
			if strings.Contains(m.Body.Text, "step-free") {
				t.Error("the facilitators' notification carries the mail")
			}
		}
	}
	if notes != 1 {
		t.Errorf("the Midlands' facilitator got %d notifications, want 1", notes)
	}
	for _, m := range testenv.Mail(t, f.admin.Email) {
		if strings.Contains(m.Subject, c.Ref) {
			t.Errorf("the admins were told of the group's reply: %q", m.Subject)
		}
	}

	// The same member replies again within the hour: kept in the group, not acknowledged again.
	again := s.receive(replyTo(t, member, sesID), "ses-reply-2")
	if again.Conversation.Group != "midlands" || again.Acknowledged {
		t.Errorf("the second reply: %+v", again)
	}

	// A London member forges the Midlands member's thread: a question for the admins.
	stranger := f.members["london"][1]
	forged := s.receive(replyTo(t, stranger, sesID), "ses-reply-forged").Conversation
	if forged.Group != "" || forged.Class == pg.MailReply {
		t.Errorf("a forged In-Reply-To took the stranger into the Midlands' thread: %+v", forged)
	}
	for _, m := range testenv.Mail(t, fac) {
		if strings.Contains(m.Subject, forged.Ref) {
			t.Error("the Midlands' facilitator was told of the forged reply")
		}
	}

	// The example as it stands answers an email we never sent: an ordinary message.
	unknown := s.receive(message(t, "announcement-reply.eml", testenv.Address("asha")), "ses-reply-unknown").Conversation
	if unknown.Group != "" || unknown.Class == pg.MailReply {
		t.Errorf("a reply to an email we never sent: %+v", unknown)
	}
}

// A member replies to the reminder of their group's event: the reminder's SES message
// ID is kept with its row, so the reply joins the group's thread like a reply to the
// announcement.
func TestAReplyToAReminderGoesToItsGroupsFacilitators(t *testing.T) {
	t.Parallel()
	f := newRound(t, 2)
	ctx := context.Background()
	going := f.members["london"][1]
	if _, err := f.s.App.Stores.RSVPs.Attend(ctx, pg.Attendance{Round: 1, Group: "london", Email: going, Name: "Going", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reminders, err := announcing.NewReminders(f.s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.s.Clock.Set(time.Date(2026, 12, 6, 15, 0, 0, 0, pg.London)) // two days before London's event
	if tally, err := reminders.Run(ctx); err != nil || tally.Sent != 1 {
		t.Fatalf("the reminders: %+v %v", tally, err)
	}
	row, found, err := f.s.App.Stores.Reminders.ReminderRow(ctx, 1, pg.LedgerID{Kind: pg.LedgerReminder, Group: "london", Email: going})
	if err != nil || !found || row.MessageID == "" {
		t.Fatalf("the reminder's row: %+v (found %v, %v), want SES's message ID kept", row, found, err)
	}
	if got := testenv.LastMail(t, going); got.MessageID != row.MessageID {
		t.Fatalf("the SES stand-in sent the reminder as %q, the row holds %q", got.MessageID, row.MessageID)
	}
	c := mailSiteOn(f.s, f.admin.Email).receive(replyTo(t, going, row.MessageID), "ses-reminder-reply").Conversation
	if c.Group != "london" || c.Class != pg.MailReply {
		t.Errorf("the reply to the reminder: %+v, want a reply in London's thread", c)
	}
}
