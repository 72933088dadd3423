// Feedback: applying SES's events to what we know of each email and each address.

package peergroups

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tags a bulk send carries, so that an event about one of its emails finds its ledger
// row: the round, the kind of email and the group (SES allows ASCII letters, digits,
// _ and - in tags: group IDs are such).
const (
	TagRound = "round"
	TagKind  = "kind"
	TagGroup = "group"
)

// ValidTag reports whether s is what SES accepts in a message tag's name or value:
// ASCII letters, digits, _ and -, at most 256 of them.
func ValidTag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// LedgerTags are the tags of a round's email of a kind to a group.
func LedgerTags(round int, kind LedgerKind, group string) map[string]string {
	return map[string]string{TagRound: strconv.Itoa(round), TagKind: string(kind), TagGroup: group}
}

// FeedbackStore records what SES says of each email, and suppresses addresses.
type FeedbackStore interface {
	// RecordDelivery raises a ledger row's delivery state to state (never lowers it),
	// with the event's detail; moved is false when the row was at that state or
	// above already, or there is no such row. A Send or Delivery event for a row still
	// "sending" (a run stopped between SES accepting it and the ledger recording it)
	// also marks the row sent, so that no later run sends it again.
	RecordDelivery(ctx context.Context, round int, id LedgerID, e FeedbackEvent, state DeliveryState, detail string) (moved bool, err error)
	// SuppressAddress puts an address on our suppression list with its evidence, and
	// the audit entry, in one write.
	SuppressAddress(ctx context.Context, email, reason string, at time.Time, a AuditEntry) error
}

// Feedback applies SES's events.
type Feedback struct {
	Env
	Store FeedbackStore
}

// FeedbackOutcome is what an event changed.
type FeedbackOutcome struct {
	Recorded   int // ledger rows whose state moved
	Suppressed []string
}

// Apply applies one event: each recipient's ledger row (when the send's tags name
// one) moves up to the event's state, and a permanent bounce or a complaint puts the
// address on the suppression list. The same event twice changes nothing more.
func (f *Feedback) Apply(ctx context.Context, e FeedbackEvent) (FeedbackOutcome, error) {
	var out FeedbackOutcome
	state := e.State()
	round, _ := strconv.Atoi(e.Tags[TagRound])
	kind, group := LedgerKind(e.Tags[TagKind]), e.Tags[TagGroup]
	for _, r := range e.Recipients {
		if round > 0 && kind != "" && group != "" && state != DeliveryUnknown {
			moved, err := f.Store.RecordDelivery(ctx, round, LedgerID{Kind: kind, Group: group, Email: r.Email}, e, state, detail(e, r))
			if err != nil {
				return out, fmt.Errorf("record %s for %s: %w", e.Type, e.MessageID, err)
			}
			if moved {
				out.Recorded++
			}
		}
		if e.Suppresses() {
			reason := detail(e, r)
			a := f.audit(Caller{Email: "ses-feedback"}, "suppress address", r.Email, nil, map[string]string{"event": e.Type, "message": e.MessageID, "evidence": reason})
			if err := f.Store.SuppressAddress(ctx, r.Email, reason, f.Now(), a); err != nil {
				return out, err
			}
			out.Suppressed = append(out.Suppressed, r.Email)
		}
	}
	return out, nil
}

// detail is an event's evidence for one recipient, in words.
func detail(e FeedbackEvent, r FeedbackRecipient) string {
	parts := []string{}
	switch e.Type {
	case FeedbackBounce:
		parts = append(parts, strings.ToLower(e.BounceType)+" bounce", e.BounceSubType)
	case FeedbackComplaint:
		parts = append(parts, "complaint", e.ComplaintType)
	case FeedbackReject:
		parts = append(parts, "rejected", e.Reason)
	default:
		parts = append(parts, strings.ToLower(e.Type))
	}
	parts = append(parts, r.Status, r.Diagnostic, "SES message "+e.MessageID)
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "; ")
}
