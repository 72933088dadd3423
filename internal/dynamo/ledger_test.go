package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

var claimedAt = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// batchOf returns the rows of one batch of announcements as run claims them.
func batchOf(run string, emails ...string) []pg.LedgerRow {
	rows := make([]pg.LedgerRow, len(emails))
	for i, e := range emails {
		rows[i] = pg.LedgerRow{
			LedgerID: pg.LedgerID{Kind: pg.LedgerAnnouncement, Group: "london", Email: e},
			Name:     "Member " + e, State: pg.LedgerSending, Run: run, ClaimedAt: claimedAt,
		}
	}
	return rows
}

// race runs claim for each run at the same moment and returns their errors.
func race(runs []string, claim func(run string) error) []error {
	errs := make([]error, len(runs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			<-start
			errs[i] = retryContended(func() error { return claim(run) })
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winner returns the one run whose claim succeeded, failing unless every other got
// pg.ErrClaimed.
func winner(t *testing.T, runs []string, errs []error) string {
	t.Helper()
	won := ""
	for i, err := range errs {
		switch {
		case err == nil && won == "":
			won = runs[i]
		case err == nil:
			t.Fatalf("both %s and %s claimed the same rows", won, runs[i])
		case !errors.Is(err, pg.ErrClaimed) || pg.KindOf(err) != pg.KindConflict:
			t.Fatalf("%s's claim: %v, want pg.ErrClaimed (a conflict)", runs[i], err)
		}
	}
	if won == "" {
		t.Fatal("no run claimed the rows")
	}
	return won
}

func TestTwoRunsClaimingTheSameRecipientsOneWinsAndOnlyItSettles(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	r := draftRound(t, st, 1)
	r.PublishedAt = claimedAt
	if err := dynamo.Capabilities(st).Rounds.PublishRound(ctx, r, auditBy); err != nil {
		t.Fatal(err)
	}
	emails := []string{"ada@example.org", "grace@example.org", "alan@example.org"}
	runs := []string{"run-a", "run-b", "run-c"}
	won := winner(t, runs, race(runs, func(run string) error {
		return dynamo.Capabilities(st).Announcements.Claim(ctx, 1, batchOf(run, emails...))
	}))

	ledger, err := dynamo.Capabilities(st).Announcements.Ledger(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ledger) != len(emails) {
		t.Fatalf("the ledger has %d rows, want %d", len(ledger), len(emails))
	}
	for _, row := range ledger {
		if row.Run != won || row.State != pg.LedgerSending || row.Kind != pg.LedgerAnnouncement || row.Group != "london" || !row.ClaimedAt.Equal(claimedAt) {
			t.Errorf("row %+v, want held (sending) by %s since %s", row, won, claimedAt)
		}
	}

	// A run that lost cannot settle what it does not hold, and changes nothing.
	lost := runs[0]
	if lost == won {
		lost = runs[1]
	}
	theirs := batchOf(lost, emails...)
	for i := range theirs {
		theirs[i].State, theirs[i].MessageID = pg.LedgerSent, "lost-"+theirs[i].Email
	}
	if err := dynamo.Capabilities(st).Announcements.Settle(ctx, 1, lost+"-1", theirs, claimedAt.Add(time.Minute)); err == nil {
		t.Fatalf("%s settled rows held by %s", lost, won)
	}

	// The winner settles once; the same settle again (a retry after a lost answer, with
	// the same idempotency token) counts once.
	ours := batchOf(won, emails...)
	for i := range ours {
		ours[i].State, ours[i].MessageID = pg.LedgerSent, "msg-"+ours[i].Email
	}
	ours[2].State, ours[2].MessageID, ours[2].Reason = pg.LedgerFailed, "", "rejected"
	for range 2 {
		if err := retryContended(func() error {
			return dynamo.Capabilities(st).Announcements.Settle(ctx, 1, won+"-1", ours, claimedAt.Add(time.Minute))
		}); err != nil {
			t.Fatalf("settle: %v", err)
		}
	}
	rows, err := dynamo.Capabilities(st).Announcements.LedgerRows(ctx, 1, []pg.LedgerID{ours[0].LedgerID, ours[2].LedgerID, {Kind: pg.LedgerBrief, Group: "london", Email: emails[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[ours[0].LedgerID].State != pg.LedgerSent || rows[ours[0].LedgerID].MessageID != "msg-"+emails[0] ||
		rows[ours[2].LedgerID].State != pg.LedgerFailed || rows[ours[2].LedgerID].Reason != "rejected" {
		t.Errorf("rows after the settle: %+v", rows)
	}
	pub, err := dynamo.Capabilities(st).Rounds.Publication(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Sent != 2 || pub.Failed != 1 || !pub.MovedAt.Equal(claimedAt.Add(time.Minute)) {
		t.Errorf("publication counts sent %d, failed %d, moved at %s; want 2, 1, %s", pub.Sent, pub.Failed, pub.MovedAt, claimedAt.Add(time.Minute))
	}

	// Settled rows are never claimed again, even by a run that names the winner.
	again := batchOf("run-late", emails[0])
	if err := dynamo.Capabilities(st).Announcements.Claim(ctx, 1, again); !errors.Is(err, pg.ErrClaimed) {
		t.Errorf("a new claim of a settled row: %v, want pg.ErrClaimed", err)
	}
	again[0].Prev = won
	if err := dynamo.Capabilities(st).Announcements.Claim(ctx, 1, again); !errors.Is(err, pg.ErrClaimed) {
		t.Errorf("a claim of a settled row from its run: %v, want pg.ErrClaimed", err)
	}
}

func TestARowLeftByADeadRunIsClaimedAgainByOneRunOnly(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	if err := dynamo.Capabilities(st).Announcements.Claim(ctx, 2, batchOf("dead", "ada@example.org")); err != nil {
		t.Fatal(err)
	}
	runs := []string{"run-x", "run-y"}
	won := winner(t, runs, race(runs, func(run string) error {
		rows := batchOf(run, "ada@example.org")
		rows[0].Prev, rows[0].PrevState = "dead", pg.LedgerSending
		return dynamo.Capabilities(st).Announcements.Claim(ctx, 2, rows)
	}))
	ledger, err := dynamo.Capabilities(st).Announcements.Ledger(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ledger) != 1 || ledger[0].Run != won {
		t.Errorf("ledger %+v, want one row held by %s", ledger, won)
	}
	// All or none: a batch with one row taken claims nothing.
	rows := batchOf("run-z", "ada@example.org", "grace@example.org")
	if err := dynamo.Capabilities(st).Announcements.Claim(ctx, 2, rows); !errors.Is(err, pg.ErrClaimed) {
		t.Fatalf("claim of a batch with a taken row: %v, want pg.ErrClaimed", err)
	}
	if ledger, _ := dynamo.Capabilities(st).Announcements.Ledger(ctx, 2); len(ledger) != 1 {
		t.Errorf("a cancelled claim wrote %d rows", len(ledger)-1)
	}
}

func TestAReminderIsClaimedByOneRunAndSettledAtTheCallersTime(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	id := pg.LedgerID{Kind: pg.LedgerReminder, Group: "yorkshire", Email: "ada@example.org"}
	if _, found, err := dynamo.Capabilities(st).Reminders.ReminderRow(ctx, 3, id); err != nil || found {
		t.Fatalf("a reminder before any claim: found %v, %v", found, err)
	}
	runs := []string{"run-a", "run-b"}
	won := winner(t, runs, race(runs, func(run string) error {
		return dynamo.Capabilities(st).Reminders.ClaimReminder(ctx, 3, pg.LedgerRow{LedgerID: id, Name: "Ada", State: pg.LedgerSending, Run: run, ClaimedAt: claimedAt})
	}))
	row, found, err := dynamo.Capabilities(st).Reminders.ReminderRow(ctx, 3, id)
	if err != nil || !found || row.Run != won || row.State != pg.LedgerSending || row.LedgerID != id || row.Name != "Ada" {
		t.Fatalf("reminder row %+v (found %v, %v), want held by %s", row, found, err, won)
	}
	settledAt := time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)
	row.State = pg.LedgerSent
	if err := dynamo.Capabilities(st).Reminders.SettleReminder(ctx, 3, row, settledAt); err != nil {
		t.Fatal(err)
	}
	// The reminders' own ledger, keyed by round, kind, group and address.
	stored := item(t, st, "REMIND#0003", "remind#yorkshire#ada@example.org")
	if str(stored, "state") != string(pg.LedgerSent) || str(stored, "settledAt") != "2026-12-01T08:30:00Z" {
		t.Errorf("stored reminder %v, want sent at 2026-12-01T08:30:00Z (the caller's clock)", stored)
	}
	if item(t, st, "SEND#0003", "remind#yorkshire#ada@example.org") != nil {
		t.Error("a reminder was written in the announcements' ledger")
	}
	if err := dynamo.Capabilities(st).Reminders.ClaimReminder(ctx, 3, pg.LedgerRow{LedgerID: id, State: pg.LedgerSending, Run: "run-late", Prev: won, ClaimedAt: claimedAt}); !errors.Is(err, pg.ErrClaimed) {
		t.Errorf("claiming a sent reminder again: %v, want pg.ErrClaimed", err)
	}
}
