package peergroups

import (
	"context"
	"errors"
	"time"
)

// OutboxItem is work that follows a change: an email to send, or the invitations of an
// approved proposal to write. It is stored in the same transaction as the change (or
// alone, when the change is only a request for a link), and the outbox function,
// triggered by the table's stream, does it once. So no web request waits on the mail
// service, a crash after the commit loses nothing, and whether an address is known
// changes nothing a caller can time.
type OutboxItem struct {
	ID string
	At time.Time // when it was made
	// Message is the email to send, or nil.
	Message *Message
	// Invite is the ID of an approved proposal whose interested people are to be
	// invited to its group, or "".
	Invite string
	// Conversation is the reference of the mail-in conversation the email belongs to
	// (an acknowledgement, a reply from the console), or "": once sent, the item is
	// found by the SES message ID of its email, so that a reply to it joins the
	// conversation even without the reference in its subject.
	Conversation string
}

// Mailer sends one email. No service calls one: their emails go through the outbox
// (see OutboxItem); the outbox function and the reminders do.
type Mailer interface {
	// SendMessage sends m and returns the message ID SES gave it (SES sends it with
	// the Message-ID <that ID@REGION.amazonses.com>, which replies name).
	SendMessage(ctx context.Context, m Message) (string, error)
}

// Outbox stores outbox items on their own (when no other change goes with them).
type Outbox interface {
	Enqueue(ctx context.Context, items ...OutboxItem) error
}

// ErrRejected is returned by a mailer when the mail service refused a message for
// good (a malformed address, a rejected message): sending it again would not help.
var ErrRejected = errors.New("the mail service rejected the message")

// OutboxTTL is how long an outbox item is kept, sent or not. It outlives the stream's
// 24-hour retention, so that a record delivered again always finds its item.
const OutboxTTL = 7 * 24 * time.Hour

// newOutboxID returns a random ID for an outbox item.
func newOutboxID() string { return newID() + newID() }
