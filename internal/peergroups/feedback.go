// Feedback: what SES says became of each email it sent (sent, delayed, delivered,
// bounced, complained about, rejected), as events that arrive at least once and out of
// order. A message's state only moves up, so the same event twice changes nothing and
// a late event never undoes a later one.

package peergroups

import "time"

// DeliveryState is what is known of one email's delivery. Their order is the order
// in which they can follow one another; a state never goes down.
type DeliveryState int

const (
	DeliveryUnknown    DeliveryState = iota
	DeliverySent                     // SES accepted it
	DeliveryDelayed                  // SES is still trying (a delivery delay)
	DeliveryDelivered                // the recipient's server took it
	DeliveryBounced                  // it bounced (permanently or not: see the bounce type)
	DeliveryRejected                 // SES refused to send it (a virus, say)
	DeliveryComplained               // the recipient marked it as spam
)

var deliveryWords = map[DeliveryState]string{
	DeliveryUnknown: "not known", DeliverySent: "sent", DeliveryDelayed: "delayed", DeliveryDelivered: "delivered",
	DeliveryBounced: "bounced", DeliveryRejected: "rejected", DeliveryComplained: "complained about",
}

func (s DeliveryState) String() string { return deliveryWords[s] }

// Advance returns the state after an event that says next: the later of the two.
func (s DeliveryState) Advance(next DeliveryState) DeliveryState { return max(s, next) }

// Feedback event types, as SES names them (eventType, or notificationType for SES's
// older notifications).
const (
	FeedbackSend          = "Send"
	FeedbackDelivery      = "Delivery"
	FeedbackDeliveryDelay = "DeliveryDelay"
	FeedbackBounce        = "Bounce"
	FeedbackComplaint     = "Complaint"
	FeedbackReject        = "Reject"
)

// FeedbackEvent is one SES event about one sent email, for its recipients.
type FeedbackEvent struct {
	Type       string // one of the Feedback… types, or a type SES added since, kept as given
	MessageID  string // the SES message ID the send returned
	At         time.Time
	Tags       map[string]string // the send's tags (ASCII letters, digits, _ and -): round, batch…
	Recipients []FeedbackRecipient
	// For a bounce: Permanent, Transient or Undetermined, and its subtype (General,
	// NoEmail, Suppressed, MailboxFull…; new ones appear, and are kept as given).
	BounceType, BounceSubType string
	ComplaintType             string // abuse, fraud, not-spam… when the provider says
	Reason                    string // a rejection's reason
	FeedbackID                string // SES's ID of a bounce or complaint notice, the evidence's reference
}

// FeedbackRecipient is one recipient an event is about.
type FeedbackRecipient struct {
	Email      string
	Status     string // the SMTP status, like 5.1.1
	Diagnostic string // the receiving server's words, made one safe line
}

// State is the delivery state the event says its recipients' email reached.
func (e FeedbackEvent) State() DeliveryState {
	switch e.Type {
	case FeedbackSend:
		return DeliverySent
	case FeedbackDeliveryDelay:
		return DeliveryDelayed
	case FeedbackDelivery:
		return DeliveryDelivered
	case FeedbackBounce:
		return DeliveryBounced
	case FeedbackReject:
		return DeliveryRejected
	case FeedbackComplaint:
		return DeliveryComplained
	}
	return DeliveryUnknown
}

// Suppresses reports whether the event means the address is not to be mailed again:
// a permanent bounce, or a complaint. (Transient bounces suppress only after several
// in a row, which their count decides.)
func (e FeedbackEvent) Suppresses() bool {
	return e.Type == FeedbackComplaint || (e.Type == FeedbackBounce && e.BounceType == "Permanent")
}
