// Package outbox does the work the service leaves in its outbox: the transactional
// emails (confirmations, welcomes, sign-in and manage links, invitations, ...) and the
// invitations of an approved proposal. Each item is written in the same DynamoDB
// transaction as the change that causes it; the table's stream hands its key to the
// outbox function, which sends it exactly once.
//
// Exactly once, as the announcements' ledger does it: a conditional claim marks the
// item "sending" for this run, with a lease; the email goes to SES; a conditional
// settle marks it "sent" (or "failed" when SES refused it for good) and drops the
// sealed message. A stream record delivered again finds the item settled and sends
// nothing. A run that dies between its claim and its settle leaves the item "sending":
// once the lease has run out the next delivery takes it over, so the only window for a
// second copy is a crash between SES accepting the email and the settle recording it.
// A failure that may pass (throttling, SES or the network down) puts the item back to
// "waiting" and is reported, so that Lambda delivers the record again.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// States of an outbox item.
const (
	StateWaiting = "waiting"
	StateSending = "sending"
	StateSent    = "sent"
	StateFailed  = "failed"
	// StateSuppressed: not sent, the address being on the suppression list.
	StateSuppressed = "suppressed"
)

// Item is an outbox item as claimed.
type Item struct {
	ID        string
	Message   *pg.Message // nil when the item is an invitation run, or could not be read
	Invite    string      // the proposal whose interested people to invite, or ""
	Unusable  string      // why the item cannot be done (its message does not open), or ""
	ClaimedAt time.Time
}

var (
	// ErrDone is returned by a claim when the item was settled already (or is gone):
	// there is nothing left to do.
	ErrDone = errors.New("outbox item already done")
	// ErrLost is returned by a settle or a release when the run no longer holds the item.
	ErrLost = errors.New("outbox item no longer held by this run")
)

// BusyError is returned by a claim when another run holds the item until Until.
type BusyError struct{ Until time.Time }

func (e *BusyError) Error() string {
	return "outbox item is being sent by another run until " + e.Until.UTC().Format(time.RFC3339)
}

// Store keeps the outbox items' states.
type Store interface {
	// ClaimOutbox marks an item "sending" for run if it is waiting, or if the run that
	// claimed it did so before now minus lease; ErrDone or a *BusyError otherwise.
	ClaimOutbox(ctx context.Context, id, run string, now time.Time, lease time.Duration) (Item, error)
	// SettleOutbox records the final state of an item run holds, with the SES message
	// ID of its email when it was sent ("" otherwise), by which a reply to it finds it;
	// ErrLost if the run does not hold it.
	SettleOutbox(ctx context.Context, id, run, state, reason, messageID string, at time.Time) error
	// ReleaseOutbox puts an item run holds back to waiting, with why.
	ReleaseOutbox(ctx context.Context, id, run, reason string) error
	// AddressSuppressed reports whether an address is on the suppression list.
	AddressSuppressed(ctx context.Context, email string) (bool, error)
	// AddressErased reports whether the hash an erased address is known by
	// (pg.ErasedHash) is on the suppression list.
	AddressErased(ctx context.Context, hash string) (bool, error)
}

// Invitations queues the invitations of an approved proposal (peergroups.Invitations does).
type Invitations interface {
	RunInvitations(ctx context.Context, proposal string) (int, error)
}

// Defaults, chosen for the outbox function's 60-second timeout: a send gives up after
// SendTimeout, well inside the Lease, so that a live run settles before anyone may take
// its item over; a run that finds an item leased waits for the lease while it has time.
const (
	DefaultLease       = 30 * time.Second
	DefaultSendTimeout = 10 * time.Second
	DefaultRetryPause  = 5 * time.Second
)

// Sender does outbox items.
type Sender struct {
	Store       Store
	Mailer      pg.Mailer
	Invitations Invitations
	// Audit records each email once it is settled (sent, or refused for good); nil: not
	// recorded.
	Audit pg.AuditLog
	// Pseudonym keys the hash that names a recipient in the audit trail (the keyring's).
	Pseudonym func(parts ...string) string
	// Now tells the real time: leases protect against runs that really overlap, so a
	// test's frozen clock does not belong here.
	Now         func() time.Time
	Log         *slog.Logger
	Lease       time.Duration // 0: DefaultLease
	SendTimeout time.Duration // 0: DefaultSendTimeout
	// RetryPause is how long to wait after a failure that may pass before reporting it,
	// since Lambda delivers a failed stream record again at once. 0: no pause.
	RetryPause time.Duration
}

// Do does the outbox item id, once. It returns nil when the item is done (now or
// before, or refused for good); an error when it should be tried again later.
func (s *Sender) Do(ctx context.Context, id string) error {
	run := newRun()
	item, err := s.claim(ctx, id, run)
	if errors.Is(err, ErrDone) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case item.Unusable != "":
		s.Log.ErrorContext(ctx, "outbox item cannot be sent", "id", id, "why", item.Unusable)
		return s.settle(ctx, id, run, StateFailed, item.Unusable)
	case item.Invite != "":
		n, err := s.Invitations.RunInvitations(ctx, item.Invite)
		if err != nil {
			return s.release(ctx, id, run, fmt.Errorf("queue invitations of proposal %s: %w", item.Invite, err))
		}
		s.Log.InfoContext(ctx, "invitations queued", "id", id, "proposal", item.Invite, "queued", n)
		return s.settle(ctx, id, run, StateSent, "")
	case item.Message != nil:
		if !item.Message.Requested {
			suppressed, err := s.Store.AddressSuppressed(ctx, item.Message.To)
			if err == nil && !suppressed && s.Pseudonym != nil {
				// An erased person is on the list by a keyed hash only.
				suppressed, err = s.Store.AddressErased(ctx, pg.ErasedHash(s.Pseudonym, item.Message.To))
			}
			if err != nil {
				return s.release(ctx, id, run, fmt.Errorf("read the suppression list: %w", err))
			}
			if suppressed {
				s.Log.InfoContext(ctx, "email not sent: the address is suppressed", "id", id)
				return s.settle(ctx, id, run, StateSuppressed, "the address is on the suppression list")
			}
		}
		// Its tag brings SES's events about it back to this item.
		msg := *item.Message
		msg.Tags = map[string]string{pg.TagOutbox: id}
		sendCtx, cancel := context.WithTimeout(ctx, s.sendTimeout())
		sesID, err := s.Mailer.SendMessage(sendCtx, msg)
		cancel()
		switch {
		case err == nil:
			s.Log.InfoContext(ctx, "email sent", "id", id, "messageId", sesID)
			return s.settleAudited(ctx, id, run, StateSent, "", sesID, *item.Message)
		case errors.Is(err, pg.ErrRejected):
			s.Log.ErrorContext(ctx, "email refused for good", "id", id, "error", err)
			return s.settleAudited(ctx, id, run, StateFailed, err.Error(), "", *item.Message)
		default:
			return s.release(ctx, id, run, fmt.Errorf("send email: %w", err))
		}
	default:
		return s.settle(ctx, id, run, StateFailed, "nothing to do")
	}
}

// claim claims the item. When another run holds it, it looks again every second
// until that run has settled it or its lease has run out (a run that died holding it),
// while the function has time left for the send.
func (s *Sender) claim(ctx context.Context, id, run string) (Item, error) {
	limit := int(s.lease()/time.Second) + 5 // one look a second, a few past the lease
	for look := 1; ; look++ {
		item, err := s.Store.ClaimOutbox(ctx, id, run, s.Now(), s.lease())
		var busy *BusyError
		if !errors.As(err, &busy) {
			return item, err
		}
		if look >= limit {
			return item, fmt.Errorf("outbox item %s: %w", id, err)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < time.Second+s.sendTimeout()+5*time.Second {
			return item, fmt.Errorf("outbox item %s: %w", id, err)
		}
		if look == 1 {
			s.Log.InfoContext(ctx, "outbox item held by another run: waiting", "id", id, "until", busy.Until)
		}
		if err := pg.Sleep(ctx, time.Second); err != nil {
			return item, err
		}
	}
}

// settle records the outcome. It must not be lost: SES may already have the email.
// So it runs even when ctx has ended, and tries again a few times.
func (s *Sender) settle(ctx context.Context, id, run, state, reason string) error {
	return s.settleSent(ctx, id, run, state, reason, "")
}

// settleSent is settle, recording the SES message ID of the email sent.
func (s *Sender) settleSent(ctx context.Context, id, run, state, reason, messageID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var err error
	for attempt := range 5 {
		if err = s.Store.SettleOutbox(ctx, id, run, state, reason, messageID, s.Now()); err == nil || errors.Is(err, ErrLost) {
			break
		}
		s.Log.WarnContext(ctx, "settling an outbox item failed: trying again", "id", id, "attempt", attempt+1, "error", err)
		if pg.Sleep(ctx, jitter(attempt)) != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("settle outbox item %s as %s: %w", id, state, err)
	}
	return nil
}

// release puts the item back to waiting after a failure that may pass, pauses, and
// reports the failure so that the record is delivered again.
func (s *Sender) release(ctx context.Context, id, run string, cause error) error {
	s.Log.WarnContext(ctx, "outbox item to be tried again", "id", id, "error", cause)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Store.ReleaseOutbox(rctx, id, run, cause.Error()); err != nil {
		// Still "sending": the next delivery takes it over when the lease runs out.
		s.Log.WarnContext(ctx, "releasing an outbox item failed", "id", id, "error", err)
	}
	if s.RetryPause > 0 {
		pg.Sleep(ctx, s.RetryPause)
	}
	return cause
}

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

func (s *Sender) sendTimeout() time.Duration {
	if s.SendTimeout > 0 {
		return s.SendTimeout
	}
	return DefaultSendTimeout
}

// jitter returns a pause before the attempt+1th try: 100 ms doubling, jittered.
func jitter(attempt int) time.Duration {
	base := 100 * time.Millisecond << attempt
	return base/2 + mrand.N(base)
}

func newRun() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// settleAudited settles an email's item and, once settled, records it in the audit
// trail: once, since an item settled is never claimed again. The email is out whatever
// the audit trail says: an entry that cannot be written is logged, not tried again.
func (s *Sender) settleAudited(ctx context.Context, id, run, state, reason, messageID string, m pg.Message) error {
	if err := s.settleSent(ctx, id, run, state, reason, messageID); err != nil {
		return err
	}
	if s.Audit == nil {
		return nil
	}
	action := "send email"
	if state == StateFailed {
		action = "email refused"
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Audit.AppendAudit(actx, pg.MailOutEntry(s.Now(), action, pg.MailOutTarget(s.Pseudonym, m.To), map[string]any{"kind": m.Kind, "outbox": id})); err != nil {
		s.Log.WarnContext(ctx, "the audit entry of an email sent was not written", "id", id, "error", err)
	}
	return nil
}
