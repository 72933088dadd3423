// Delivery figures on the round pages: each group's for its facilitators, each
// recipient's for the admins; and resuming a round its breaker paused.

package peergroups

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// DeliveryStore reads a round's delivery figures and resumes a paused round.
type DeliveryStore interface {
	// RoundDelivery reads a round's delivery counts by email and group.
	RoundDelivery(ctx context.Context, round int) (RoundDelivery, error)
	// LedgerPage reads up to limit rows of a round's ledger (briefs and
	// announcements) in order, starting after the row named after (none: from the
	// first), and says whether there are more.
	LedgerPage(ctx context.Context, round int, after LedgerID, limit int) (rows []LedgerRow, more bool, err error)
	// ResumePaused lifts a round's pause, arms its breaker at the figures armed
	// (so that it judges only what is sent after), and starts the announcements
	// again, with the audit entry; a conflict when the round is not paused.
	ResumePaused(ctx context.Context, round int, at time.Time, armed DeliveryCounts, a AuditEntry) error
}

// resumePaused resumes a round its breaker paused.
func (s *Rounds) resumePaused(ctx context.Context, c Caller, number int, pub Publication) error {
	counts, err := s.Store.RoundDelivery(ctx, number)
	if err != nil {
		return fmt.Errorf("read delivery figures of round %d: %w", number, err)
	}
	now := counts.Round()
	a := s.audit(c, "resume sending", strconv.Itoa(number), map[string]any{"paused": pub.Breaker.Pause.Reason}, map[string]any{
		"armedSent": now.Total(), "armedBounced": now.Bounced,
	})
	if err := s.Store.ResumePaused(ctx, number, s.Now(), now, a); err != nil {
		return fmt.Errorf("resume round %d: %w", number, err)
	}
	return nil
}

// GroupFigures is what a group's facilitators see of their group's announcement.
type GroupFigures struct {
	Progress Progress       // settled: sent, failed, not sent because suppressed
	Counts   DeliveryCounts // what SES said became of those sent
}

// GroupDelivery returns the figures of a round's announcement to a group: to its
// facilitators and the admins.
func (s *Rounds) GroupDelivery(ctx context.Context, c Caller, round int, group string) (GroupFigures, error) {
	if !c.CanFacilitate(group) {
		return GroupFigures{}, ErrForbidden
	}
	pub, err := s.Store.Publication(ctx, round)
	if KindOf(err) == KindNotFound {
		return GroupFigures{}, nil // not published: nothing sent
	}
	if err != nil {
		return GroupFigures{}, err
	}
	d, err := s.Store.RoundDelivery(ctx, round)
	if err != nil {
		return GroupFigures{}, err
	}
	return GroupFigures{Progress: pub.Groups[group], Counts: d.For(LedgerAnnouncement, group)}, nil
}

// RecipientsPage is one page of a round's recipients with what became of each email.
type RecipientsPage struct {
	Rows []LedgerRow
	Next string // the token of the next page, "" for none
}

// recipientsPage is how many recipients one page lists.
const recipientsPage = 100

// ledgerPage is the purpose of a token naming where a page of a round's recipients
// starts: sealed, so that no address appears in the page's address (and logs).
const ledgerPage links.Purpose = "ledger-page"

// Recipients returns a page of a round's recipients (briefs and announcements), with
// each one's delivery state and reason, from the page token ("" for the first).
// Admins only: the addresses are personal data.
func (s *Rounds) Recipients(ctx context.Context, c Caller, round int, token string) (RecipientsPage, error) {
	if !c.Admin {
		return RecipientsPage{}, ErrForbidden
	}
	var after LedgerID
	if token != "" {
		claims, err := s.Links.Open(token, ledgerPage)
		if err != nil {
			return RecipientsPage{}, Errorf(KindInvalid, "That page of recipients has expired: start again from the first page.")
		}
		kind, group, ok := strings.Cut(claims.Subject, "#")
		if !ok || claims.Groups == nil || len(claims.Groups) != 1 || claims.Groups[0] != strconv.Itoa(round) {
			return RecipientsPage{}, Errorf(KindInvalid, "That page of recipients is of another round.")
		}
		after = LedgerID{Kind: LedgerKind(kind), Group: group, Email: claims.Email}
	}
	rows, more, err := s.Store.LedgerPage(ctx, round, after, recipientsPage)
	if err != nil {
		return RecipientsPage{}, err
	}
	page := RecipientsPage{Rows: rows}
	if more && len(rows) > 0 {
		last := rows[len(rows)-1]
		page.Next, err = s.Links.Seal(links.Claims{Purpose: ledgerPage, Email: last.Email, Subject: string(last.Kind) + "#" + last.Group, Groups: []string{strconv.Itoa(round)}}, time.Hour)
		if err != nil {
			return RecipientsPage{}, fmt.Errorf("seal the next page: %w", err)
		}
	}
	return page, nil
}

// DeliveryOf returns a round's delivery counts by email and group. Admins only.
func (s *Rounds) DeliveryOf(ctx context.Context, c Caller, round int) (RoundDelivery, error) {
	if !c.Admin {
		return nil, ErrForbidden
	}
	return s.Store.RoundDelivery(ctx, round)
}
