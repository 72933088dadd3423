package peergroups

import (
	"errors"
	"time"
)

// The ledger makes a round's emails exactly-once: every recipient of every email
// (a facilitator's brief, a member's announcement, a reminder) has one row, claimed
// before the mail service is called and settled after. The announcer and the reminders
// write it; the store keeps it.

// LedgerKind is which email a ledger row stands for.
type LedgerKind string

// The emails a round sends.
const (
	LedgerBrief        LedgerKind = "brief"    // the round brief, to a group's facilitators
	LedgerAnnouncement LedgerKind = "announce" // the announcement of a group's event, to its members
	LedgerReminder     LedgerKind = "remind"   // the reminder, two days before, to those going
)

// LedgerState is where a recipient's email stands.
type LedgerState string

// Ledger row states.
const (
	LedgerSending    LedgerState = "sending" // claimed by a run, not settled yet
	LedgerSent       LedgerState = "sent"
	LedgerFailed     LedgerState = "failed"
	LedgerSuppressed LedgerState = "suppressed"
	// LedgerDeferred is a recipient the mail service did not take for a reason that
	// passes (its throttling, a transient failure, the daily quota): not settled, and
	// claimed again by the run after a pause or by the next run at once.
	LedgerDeferred LedgerState = "deferred"
)

// Settled reports whether a row in this state is done with: sent, failed or suppressed.
func (s LedgerState) Settled() bool {
	return s == LedgerSent || s == LedgerFailed || s == LedgerSuppressed
}

// LedgerID names one recipient of one email of a round: which email, for which group,
// to whom. A round's ledger has at most one row for each.
type LedgerID struct {
	Kind  LedgerKind
	Group string
	Email string
}

// LedgerRow is one recipient's line in a round's ledger.
type LedgerRow struct {
	LedgerID
	Name      string
	State     LedgerState
	Run       string      // the run that claimed it
	Prev      string      // when claiming again: the run that left it
	PrevState LedgerState // and the state it left it in (sending, or deferred)
	ClaimedAt time.Time
	MessageID string
	Reason    string
	// Delivery is what SES said became of the email (DeliveryUnknown: nothing yet),
	// and DeliveryDetail its evidence in words (a bounce's diagnostic, a complaint).
	Delivery       DeliveryState
	DeliveryDetail string
}

// ErrClaimed is returned by a store's claim when a row was claimed by another run
// first: nothing was written.
var ErrClaimed = &Error{Kind: KindConflict, Message: "a ledger row was claimed by another run"}

// ErrDeadline is returned when a run of the announcements stopped to stay within its
// deadline; the next run (a redelivery of the trigger) continues.
var ErrDeadline = errors.New("stopped before the deadline: the next run continues")

// ErrUnsettled is returned when a round's recipients are still held by another run
// that may be live: try again later.
var ErrUnsettled = errors.New("some recipients are held by another run: try again later")
