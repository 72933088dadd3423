// Feedback: applying SES's events to what we know of each email and each address.

package peergroups

import (
	"cmp"
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

// TagOutbox is the tag of a transactional email (one sent from the outbox): the
// outbox item's ID, so that an event about it finds its item with one GetItem's key.
const TagOutbox = "outbox"

// DefaultTransientLimit is how many transient bounces in a row (with no delivery
// between them) suppress an address.
const DefaultTransientLimit = 3

// Suppression is an address put on our suppression list, with why; for a complaint,
// the groups the person leaves and the interests withdrawn, as an unsubscribe would.
type Suppression struct {
	Email     string
	Reason    string // the evidence, in words
	Complaint bool   // a complaint (which also ends the memberships), not a bounce
	At        time.Time
	Leave     []string
	Withdraw  []string
}

// FeedbackStore records what SES says of each email, and suppresses addresses.
type FeedbackStore interface {
	// RecordDelivery raises a ledger row's delivery state to state (never lowers it),
	// with the event's detail; moved is false when the row was at that state or
	// above already, or there is no such row. A Send or Delivery event for a row still
	// "sending" (a run stopped between SES accepting it and the ledger recording it)
	// also marks the row sent, so that no later run sends it again.
	RecordDelivery(ctx context.Context, round int, id LedgerID, e FeedbackEvent, state DeliveryState, detail string) (moved bool, err error)
	// RecordOutboxDelivery does the same for the outbox item id (a transactional email).
	RecordOutboxDelivery(ctx context.Context, id string, e FeedbackEvent, state DeliveryState, detail string) (moved bool, err error)
	// CountTransientBounce counts a transient bounce of the message e names to email,
	// once however often the event comes, and returns how many there have been in a row.
	CountTransientBounce(ctx context.Context, email string, e FeedbackEvent) (inARow int, err error)
	// ResetTransientBounces ends a run of transient bounces that began before a
	// delivery at at.
	ResetTransientBounces(ctx context.Context, email string, at time.Time) error
	// Person reads what a complaint ends: the person's memberships and interests.
	Person(ctx context.Context, email string) (Person, error)
	// SuppressAddress puts an address on our suppression list with its evidence (for
	// a complaint, ending the memberships it names with the reason), and the audit
	// entry, in one write. done is false when it was suppressed already (for a
	// complaint: because of a complaint): then nothing is written.
	SuppressAddress(ctx context.Context, sup Suppression, a AuditEntry) (done bool, err error)
}

// Feedback applies SES's events.
type Feedback struct {
	Env
	Store FeedbackStore
	// TransientLimit is how many transient bounces in a row suppress an address;
	// 0: DefaultTransientLimit.
	TransientLimit int
}

// FeedbackOutcome is what an event changed.
type FeedbackOutcome struct {
	Recorded   int // ledger rows and outbox items whose state moved
	Suppressed []string
	Left       []string // groups left because of a complaint
}

// Apply applies one event: each recipient's ledger row or outbox item (when the
// send's tags name one) moves up to the event's state; a permanent bounce, a complaint
// or the TransientLimit-th transient bounce in a row puts the address on the
// suppression list, with its evidence in the audit trail; a complaint also ends the
// person's memberships, as an unsubscribe would; a delivery ends a run of transient
// bounces. The same event twice changes nothing more.
func (f *Feedback) Apply(ctx context.Context, e FeedbackEvent) (FeedbackOutcome, error) {
	var out FeedbackOutcome
	state := e.State()
	round, _ := strconv.Atoi(e.Tags[TagRound])
	kind, group, outboxID := LedgerKind(e.Tags[TagKind]), e.Tags[TagGroup], e.Tags[TagOutbox]
	for _, r := range e.Recipients {
		if state != DeliveryUnknown {
			var moved bool
			var err error
			switch {
			case round > 0 && kind != "" && group != "":
				moved, err = f.Store.RecordDelivery(ctx, round, LedgerID{Kind: kind, Group: group, Email: r.Email}, e, state, detail(e, r))
			case outboxID != "":
				moved, err = f.Store.RecordOutboxDelivery(ctx, outboxID, e, state, detail(e, r))
			}
			if err != nil {
				return out, fmt.Errorf("record %s for %s: %w", e.Type, e.MessageID, err)
			}
			if moved {
				out.Recorded++
			}
		}
		suppress, reason := e.Suppresses(), detail(e, r)
		switch {
		case e.Type == FeedbackDelivery:
			if err := f.Store.ResetTransientBounces(ctx, r.Email, e.At); err != nil {
				return out, fmt.Errorf("reset transient bounces of %s: %w", e.MessageID, err)
			}
		case e.Type == FeedbackBounce && e.BounceType == "Transient":
			n, err := f.Store.CountTransientBounce(ctx, r.Email, e)
			if err != nil {
				return out, fmt.Errorf("count transient bounce %s: %w", e.MessageID, err)
			}
			if limit := cmp.Or(f.TransientLimit, DefaultTransientLimit); n >= limit {
				suppress, reason = true, fmt.Sprintf("%d transient bounces in a row; the last: %s", n, reason)
			}
		}
		if !suppress {
			continue
		}
		sup := Suppression{Email: r.Email, Reason: reason, Complaint: e.Type == FeedbackComplaint, At: f.Now()}
		if sup.Complaint {
			p, err := f.Store.Person(ctx, r.Email)
			if err != nil && KindOf(err) != KindNotFound {
				return out, fmt.Errorf("read who complained about %s: %w", e.MessageID, err)
			}
			sup.Leave = p.ConfirmedGroups()
			for _, in := range p.Interests {
				sup.Withdraw = append(sup.Withdraw, in.Region)
			}
		}
		a := f.audit(Caller{Email: "ses-feedback"}, "suppress address", r.Email, nil, evidence(e, r, sup))
		done, err := f.Store.SuppressAddress(ctx, sup, a)
		if err != nil {
			return out, fmt.Errorf("suppress after %s: %w", e.MessageID, err)
		}
		if done {
			out.Suppressed = append(out.Suppressed, r.Email)
			out.Left = append(out.Left, sup.Leave...)
		}
	}
	return out, nil
}

// evidence is what the audit trail keeps of why an address was suppressed.
func evidence(e FeedbackEvent, r FeedbackRecipient, sup Suppression) map[string]any {
	ev := map[string]any{"event": e.Type, "message": e.MessageID, "reason": sup.Reason}
	for k, v := range map[string]string{
		"bounceType": e.BounceType, "bounceSubType": e.BounceSubType, "complaintType": e.ComplaintType,
		"status": r.Status, "diagnostic": r.Diagnostic, "feedbackId": e.FeedbackID,
	} {
		if v != "" {
			ev[k] = v
		}
	}
	if len(sup.Leave) > 0 {
		ev["left"] = sup.Leave
	}
	if len(sup.Withdraw) > 0 {
		ev["withdrawn"] = sup.Withdraw
	}
	return ev
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
