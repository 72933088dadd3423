// Delivery figures and the per-round circuit breaker: how many of a round's emails
// SES sent, delivered, bounced and had complaints about (counted by the feedback
// function as each ledger row's delivery state moves), the round's bounce and
// complaint rates against SES's review levels, and the breaker that pauses a round's
// sending when its bounces climb.

package peergroups

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"
)

// SES reviews an account whose bounce rate reaches 5 % or whose complaint rate
// reaches 0.1 % (the shares of the emails it sent).
const (
	SESBounceReview    = 0.05
	SESComplaintReview = 0.001
)

// DeliveryCounts is how many emails are at each delivery state (each email is
// counted once, at the state it has reached).
type DeliveryCounts struct {
	Sent, Delayed, Delivered, Bounced, Rejected, Complained int
}

// Count returns the count of a state.
func (c DeliveryCounts) Count(s DeliveryState) int {
	switch s {
	case DeliverySent:
		return c.Sent
	case DeliveryDelayed:
		return c.Delayed
	case DeliveryDelivered:
		return c.Delivered
	case DeliveryBounced:
		return c.Bounced
	case DeliveryRejected:
		return c.Rejected
	case DeliveryComplained:
		return c.Complained
	}
	return 0
}

// Plus adds two sets of counts.
func (c DeliveryCounts) Plus(o DeliveryCounts) DeliveryCounts {
	return DeliveryCounts{c.Sent + o.Sent, c.Delayed + o.Delayed, c.Delivered + o.Delivered, c.Bounced + o.Bounced, c.Rejected + o.Rejected, c.Complained + o.Complained}
}

// Total is how many emails SES has told us anything of: the emails it took.
func (c DeliveryCounts) Total() int {
	return c.Sent + c.Delayed + c.Delivered + c.Bounced + c.Rejected + c.Complained
}

// Arrived is how many reached the recipient's server (complaints were delivered first).
func (c DeliveryCounts) Arrived() int { return c.Delivered + c.Complained }

// BounceRate is the share of the emails SES took that bounced (0 when none).
func (c DeliveryCounts) BounceRate() float64 { return share(c.Bounced, c.Total()) }

// ComplaintRate is the share of the emails SES took that were complained about.
func (c DeliveryCounts) ComplaintRate() float64 { return share(c.Complained, c.Total()) }

// BounceOverReview and ComplaintOverReview say whether the rates reach SES's review levels.
func (c DeliveryCounts) BounceOverReview() bool {
	return c.Total() > 0 && c.BounceRate() >= SESBounceReview
}
func (c DeliveryCounts) ComplaintOverReview() bool {
	return c.Total() > 0 && c.ComplaintRate() >= SESComplaintReview
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Percent writes a share as a percentage in words: "2.5%", "0.12%", "0%".
func Percent(share float64) string {
	p := share * 100
	switch {
	case p == 0:
		return "0%"
	case p < 1:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// GroupDelivery is the delivery counts of one email of a round (a kind) to one group.
type GroupDelivery struct {
	Kind   LedgerKind
	Group  string
	Counts DeliveryCounts
}

// RoundDelivery is a round's delivery counts, by email and group.
type RoundDelivery []GroupDelivery

// Round sums the counts of the round's own emails (briefs and announcements; the
// reminders keep a ledger of their own), which its rates and its breaker judge.
func (d RoundDelivery) Round() DeliveryCounts {
	var c DeliveryCounts
	for _, g := range d {
		if g.Kind == LedgerBrief || g.Kind == LedgerAnnouncement {
			c = c.Plus(g.Counts)
		}
	}
	return c
}

// For returns the counts of one email to one group.
func (d RoundDelivery) For(kind LedgerKind, group string) DeliveryCounts {
	for _, g := range d {
		if g.Kind == kind && g.Group == group {
			return g.Counts
		}
	}
	return DeliveryCounts{}
}

// Defaults of the circuit breaker (BOUNCE_BREAKER_PERCENT, BOUNCE_BREAKER_MIN_SENDS).
const (
	DefaultBreakerPercent  = 4.0
	DefaultBreakerMinSends = 100
)

// Breaker is the per-round circuit breaker's setting: a round's sending pauses when,
// of at least MinSends emails SES took since it was last armed (published or
// resumed), Percent % or more bounced.
type Breaker struct {
	Percent  float64
	MinSends int
}

// Pause is a round's pause, as the breaker recorded it.
type Pause struct {
	At     time.Time
	Reason string
}

// BreakerState is what the breaker keeps of a round: whether it is paused, how many
// times it paused, and the figures it was armed at (zero, or a resume's), which it
// judges only what came after.
type BreakerState struct {
	Paused       bool
	Pause        Pause
	Pauses       int
	ArmedSent    int
	ArmedBounced int
}

// Trips reports whether a round with counts now trips the breaker, and why in words.
func (b Breaker) Trips(st BreakerState, now DeliveryCounts) (bool, string) {
	percent := cmp.Or(b.Percent, DefaultBreakerPercent)
	sent, bounced := now.Total()-st.ArmedSent, now.Bounced-st.ArmedBounced
	if sent < max(1, cmp.Or(b.MinSends, DefaultBreakerMinSends)) || bounced <= 0 {
		return false, ""
	}
	rate := share(bounced, sent)
	if rate*100 < percent {
		return false, ""
	}
	since := "of"
	if st.ArmedSent > 0 {
		since = "since sending was resumed, of"
	}
	return true, fmt.Sprintf("%d %s %d emails SES took bounced (%s), which reaches the circuit breaker's %s: SES reviews an account at %s.",
		bounced, since, sent, Percent(rate), Percent(percent/100), Percent(SESBounceReview))
}

// BreakerStore is what the breaker reads and writes.
type BreakerStore interface {
	// BreakerReading reads a round's breaker state and its delivery counts.
	BreakerReading(ctx context.Context, round int) (BreakerState, DeliveryCounts, error)
	RoleHolders(ctx context.Context, role, group string) ([]string, error)
	// PauseRound records a pause, with the emails to the admins and its audit entry,
	// in one write, on condition that the round is not paused and has paused
	// prev.Pauses times (so that it pauses, and the admins are told, once however
	// many runs see the same figures). done is false when it was not written.
	PauseRound(ctx context.Context, round int, prev BreakerState, p Pause, mails []OutboxItem, a AuditEntry) (done bool, err error)
}

// RoundBreaker pauses a round's sending when its bounces climb.
type RoundBreaker struct {
	Env
	Breaker Breaker
	Admins  []string // by configuration (ADMIN_EMAILS), beside those appointed
	Store   BreakerStore
}

// ErrPaused is returned by a run of the announcements that stopped because the
// round's sending is paused (by its circuit breaker): an admin resumes it.
var ErrPaused = &Error{Kind: KindConflict, Message: "sending is paused: an admin resumes it"}

// Check reports whether round's sending is paused: paused already, or tripped now by
// its figures, in which case the pause is recorded and the admins emailed, once.
func (b *RoundBreaker) Check(ctx context.Context, round int) (bool, error) {
	st, counts, err := b.Store.BreakerReading(ctx, round)
	if err != nil {
		return false, fmt.Errorf("read the breaker of round %d: %w", round, err)
	}
	if st.Paused {
		return true, nil
	}
	trips, reason := b.Breaker.Trips(st, counts)
	if !trips {
		return false, nil
	}
	p := Pause{At: b.Now(), Reason: reason}
	appointed, err := b.Store.RoleHolders(ctx, RoleAdmin, "")
	if err != nil {
		return false, fmt.Errorf("list admins: %w", err)
	}
	var mails []OutboxItem
	seen := map[string]bool{}
	for _, to := range append(append([]string{}, b.Admins...), appointed...) {
		if seen[to] {
			continue
		}
		seen[to] = true
		data, err := b.emailData(to, "", nil)
		if err != nil {
			return false, err
		}
		data.Link, data.Reason, data.Round = fmt.Sprintf("%s/admin/rounds/%d", b.BaseURL, round), reason, &Round{Number: round}
		m, err := b.mail(to, fmt.Sprintf("Round %d: sending paused because of bounces", round), "round-paused", data)
		if err != nil {
			return false, err
		}
		mails = append(mails, m)
	}
	a := b.audit(Caller{Email: "circuit breaker"}, "pause sending", strconv.Itoa(round), nil, map[string]any{
		"reason": reason, "sent": counts.Total(), "bounced": counts.Bounced, "armedSent": st.ArmedSent, "armedBounced": st.ArmedBounced,
	})
	if _, err := b.Store.PauseRound(ctx, round, st, p, mails, a); err != nil {
		return false, fmt.Errorf("pause round %d: %w", round, err)
	}
	return true, nil // paused, by this run or by another at the same moment
}

// BouncePercent and ComplaintPercent are the rates in words, for the round pages.
func (c DeliveryCounts) BouncePercent() string    { return Percent(c.BounceRate()) }
func (c DeliveryCounts) ComplaintPercent() string { return Percent(c.ComplaintRate()) }
