package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// answering is a reply to the email SES sent as sesID, threaded as a mail client
// threads it (In-Reply-To and References name <ID@eu-west-2.amazonses.com>), with a
// subject that has lost its reference.
func answering(from, subject, body, sesID string) []byte {
	id := "<" + sesID + "@eu-west-2.amazonses.com>"
	return simple(from, subject, body, "In-Reply-To: "+id, "References: <first@example.org> "+id)
}

// A reply to our acknowledgement, or to a reply an admin sent from the console, joins
// the conversation even when the person's mail client dropped the reference from the
// subject: the outbox records the SES message ID of each email it sends, with the
// conversation it belongs to. Someone else answering the same email (a forwarded copy,
// a forged In-Reply-To) starts a conversation of their own.
func TestAReplyToOurTransactionalEmailJoinsItsConversationWithoutTheReference(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	sender := testenv.Address("threaded")
	first := s.receive(simple(sender, "Parking at the venue", "Is there parking?"), "ses-thread-1").Conversation
	ack := testenv.LastMail(t, sender)
	if ack.MessageID == "" || !strings.Contains(ack.Subject, "["+first.Ref+"]") {
		t.Fatalf("the acknowledgement: %q (SES message ID %q)", ack.Subject, ack.MessageID)
	}

	s.Clock.Add(10 * time.Minute)
	second := s.receive(answering(sender, "Re: Parking at the venue", "And bikes?", ack.MessageID), "ses-thread-2")
	if second.Conversation.Ref != first.Ref || second.Conversation.Messages != 2 || second.Acknowledged {
		t.Fatalf("a reply to the acknowledgement without its reference: %+v, want conversation %s", second.Conversation, first.Ref)
	}

	stranger := testenv.Address("thread-stranger")
	other := s.receive(answering(stranger, "Re: Parking at the venue", "Me too", ack.MessageID), "ses-thread-3").Conversation
	if other.Ref == first.Ref {
		t.Fatal("a stranger's In-Reply-To took them into someone else's conversation")
	}

	// An admin answers from the console; the person answers that, without the reference.
	c, err := s.App.Services.MailInbox.Reply(context.Background(), pg.Caller{Email: s.admin, Admin: true}, first.Ref, second.Conversation.Version, "Yes, behind the hall.")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != pg.ConversationWaiting {
		t.Fatalf("after the reply: %+v", c)
	}
	reply := testenv.LastMail(t, sender)
	if !strings.Contains(reply.Body.Text, "Yes, behind the hall.") || reply.MessageID == "" || reply.MessageID == ack.MessageID {
		t.Fatalf("the console's reply: %q (SES message ID %q)", reply.Body.Text, reply.MessageID)
	}
	s.Clock.Add(time.Hour)
	third := s.receive(answering(sender, "Thanks", "Thank you!", reply.MessageID), "ses-thread-4").Conversation
	if third.Ref != first.Ref || third.Messages != 4 || third.Status != pg.ConversationNew {
		t.Fatalf("a reply to the console's reply: %+v, want conversation %s with 4 messages, new again", third, first.Ref)
	}
}
