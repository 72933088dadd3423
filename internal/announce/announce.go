// Package announce sends a round's announcements: the brief to every facilitator and,
// to every confirmed member of every group with an event, the announcement of their
// group's event. It is exactly-once per recipient through a ledger in the table: each
// batch of recipients is claimed with conditional writes before the mail service is
// called, and settled (sent, suppressed, failed with a reason) after. A run that is
// cut off (a deadline, a crash, a redelivered trigger) is continued by the next run.
package announce

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Store is what the announcer needs of the table.
type Store interface {
	Round(ctx context.Context, n int) (pg.Round, error)
	Events(ctx context.Context, round int) ([]pg.Event, error)
	Groups(ctx context.Context) ([]pg.Group, error)
	RoleHolders(ctx context.Context, role, group string) ([]string, error)
	CountMembers(ctx context.Context, group string, status pg.Status) (int, error)
	// MemberPages calls fn with each page of a group's members with a status.
	MemberPages(ctx context.Context, group string, status pg.Status, fn func([]pg.MemberRow) error) error
	Suppressed(ctx context.Context) (map[string]bool, error)
	Publication(ctx context.Context, round int) (pg.Publication, error)
	StartPublication(ctx context.Context, round, total int, at time.Time) error
	FinishPublication(ctx context.Context, round int, at time.Time) error
	LedgerRows(ctx context.Context, round int, ids []pg.LedgerID) (map[pg.LedgerID]pg.LedgerRow, error)
	// Claim writes rows as sending by this run: new rows on condition they do not
	// exist, others on condition they are still as the run that left them left them
	// (Prev, PrevState). It claims all or none: pg.ErrClaimed when another run got there
	// first; an error marked peergroups.ErrContended when other writes were in the way.
	Claim(ctx context.Context, round int, rows []pg.LedgerRow) error
	// Settle writes the states of rows this run holds, all or none, with their counts
	// in a progress item of its own named id (no two settles share an item, so they
	// cannot conflict). id is unique to the settle and the same when it is retried.
	Settle(ctx context.Context, round int, id string, rows []pg.LedgerRow, at time.Time) error
	// AppendAudit records a settled batch in the audit trail (see auditBatch).
	AppendAudit(ctx context.Context, a pg.AuditEntry) error
}

// Announcer sends a round's announcements.
type Announcer struct {
	Store   Store
	Mailer  pg.BulkMailer
	Links   *links.Sealer
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
	// Kits tells each group's emails which kit to link to (nil: none).
	Kits KitStore
	// Checks checks the groups' versions of the kit for a preview of a round not yet
	// published (nil: every version counts as passing).
	Checks KitChecker

	// Workers is how many batches are in flight at once (default 4).
	Workers int
	// Batch is the most recipients of one call to the mail service (default and
	// most 50, and never more than a second's worth of the rate).
	Batch int
	// Margin is how long before its deadline a run stops starting batches. It must
	// cover the longest send-and-settle that a run finishes after it was cancelled
	// (SendBudget + SettleBudget), so that the hard stop cannot fall between the mail
	// service accepting a batch and the ledger recording it: that is the default.
	Margin time.Duration
	// SendBudget is the longest one batch's call to the mail service may take, with
	// its throttling back-offs (default 30 s); SettleBudget the longest its settle may
	// take, with its retries (default 30 s).
	SendBudget, SettleBudget time.Duration
	// Reserve is the share of the mail service's rate left for transactional mail
	// (sign-in links, confirmations) while a round is sending: 0.1 keeps a tenth.
	Reserve float64
	// Lease is how long a claimed row belongs to its run: after it, a row left
	// "sending" by a run that died is claimed again (default pg.SendingLease, a
	// Lambda's longest life).
	Lease time.Duration
	// Sleep waits; tests make it instant.
	Sleep func(context.Context, time.Duration) error
	// Elapsed is the clock the rate is kept by: the machine's (time.Now), even when
	// Now is a test's frozen clock, since the mail service counts real seconds.
	Elapsed func() time.Time
	// Breaker is the round's circuit breaker, checked before each batch is claimed:
	// when the round's bounces climb it pauses the round (nil: no breaker).
	Breaker *pg.RoundBreaker
}

func (a *Announcer) workers() int {
	if a.Workers > 0 {
		return a.Workers
	}
	return 4
}

func (a *Announcer) margin() time.Duration {
	if a.Margin > 0 {
		return a.Margin
	}
	return a.sendBudget() + a.settleBudget() + 5*time.Second
}

func (a *Announcer) sendBudget() time.Duration {
	if a.SendBudget > 0 {
		return a.SendBudget
	}
	return 30 * time.Second
}

func (a *Announcer) settleBudget() time.Duration {
	if a.SettleBudget > 0 {
		return a.SettleBudget
	}
	return 30 * time.Second
}

func (a *Announcer) lease() time.Duration {
	if a.Lease > 0 {
		return a.Lease
	}
	return pg.SendingLease
}

func (a *Announcer) sleep(ctx context.Context, d time.Duration) error {
	if a.Sleep != nil {
		return a.Sleep(ctx, d)
	}
	return pg.Sleep(ctx, d)
}

// batch is up to 50 recipients of one email.
type batch struct {
	kind     pg.LedgerKind
	group    pg.Group
	event    pg.Event // an announcement's event: its end bounds the member's calendar link
	template pg.BulkTemplate
	to       []recipient
}

type recipient struct{ email, name string }

// id is the ledger's name for a recipient of the batch.
func (b batch) id(r recipient) pg.LedgerID {
	return pg.LedgerID{Kind: b.kind, Group: b.group.ID, Email: r.email}
}

// Run sends the announcements of a published round that have not been sent yet.
func (a *Announcer) Run(ctx context.Context, round int) error {
	pub, err := a.Store.Publication(ctx, round)
	if err != nil {
		return fmt.Errorf("read publication of round %d: %w", round, err)
	}
	if pub.Done {
		return nil
	}
	if pub.Breaker.Paused {
		return pg.ErrPaused // an admin's resume starts a run again
	}
	r, err := a.Store.Round(ctx, round)
	if err != nil {
		return fmt.Errorf("read round %d: %w", round, err)
	}
	// The send rate and the suppression list are read while the plan counts everyone.
	var (
		rate                 float64
		suppressed           map[string]bool
		rateErr, suppressErr error
		side                 sync.WaitGroup
	)
	side.Go(func() { rate, rateErr = a.Mailer.MaxSendRate(ctx) })
	side.Go(func() { suppressed, suppressErr = a.Store.Suppressed(ctx) })
	plan, err := a.plan(ctx, r, &pub)
	side.Wait()
	if err != nil {
		return err
	}
	if rateErr != nil {
		return fmt.Errorf("read the maximum send rate: %w", rateErr)
	}
	if suppressErr != nil {
		return fmt.Errorf("read suppressed addresses: %w", suppressErr)
	}
	if err := a.Store.StartPublication(ctx, round, plan.total, a.Now()); err != nil {
		return fmt.Errorf("start publication: %w", err)
	}
	rate *= 1 - min(max(a.Reserve, 0), 0.9)
	size := min(50, max(1, int(rate)))
	if a.Batch > 0 {
		size = min(size, a.Batch)
	}
	elapsed := a.Elapsed
	if elapsed == nil {
		elapsed = time.Now
	}
	limiter := newLimiter(rate, elapsed, a.sleep)
	run := runID()

	work := make(chan batch)
	errs := make(chan error, a.workers())
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range a.workers() {
		wg.Go(func() {
			for b := range work {
				err := a.nearDeadline(ctx)
				if err == nil {
					err = a.process(runCtx, round, run, b, limiter, suppressed)
				}
				if err != nil {
					errs <- err
					cancel()
					for range work {
					}
					return
				}
			}
		})
	}
	produceErr := plan.produce(runCtx, a, size, func(b batch) error {
		if err := a.nearDeadline(ctx); err != nil {
			return err
		}
		// The breaker is read while the workers send (not in their way): a batch is
		// handed out only when the round is not paused.
		if err := a.paused(runCtx, round); err != nil {
			return err
		}
		select {
		case work <- b:
			return nil
		case <-runCtx.Done():
			return runCtx.Err()
		}
	})
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		if errors.Is(err, pg.ErrDeadline) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return pg.ErrDeadline
		}
		return fmt.Errorf("announce round %d: %w", round, err)
	}
	if produceErr != nil {
		if errors.Is(produceErr, pg.ErrPaused) {
			return pg.ErrPaused // the batches handed out were sent and settled
		}
		if errors.Is(produceErr, pg.ErrDeadline) {
			return pg.ErrDeadline
		}
		return fmt.Errorf("announce round %d: %w", round, produceErr)
	}
	pub, err = a.Store.Publication(ctx, round)
	if err != nil {
		return fmt.Errorf("read publication of round %d: %w", round, err)
	}
	if pub.Settled() < pub.Total {
		return pg.ErrUnsettled
	}
	return a.Store.FinishPublication(ctx, round, a.Now())
}

// nearDeadline returns pg.ErrDeadline when the run is too close to its deadline to
// start another batch.
func (a *Announcer) nearDeadline(ctx context.Context) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < a.margin() {
		return pg.ErrDeadline
	}
	return nil
}

func runID() string {
	b := make([]byte, 8)
	crand.Read(b)
	return hex.EncodeToString(b)
}

// paused returns pg.ErrPaused when the round's circuit breaker has paused its sending
// (before, or now, on the figures so far): no more batches are handed out, and those
// in flight finish.
func (a *Announcer) paused(ctx context.Context, round int) error {
	if a.Breaker == nil {
		return nil
	}
	paused, err := a.Breaker.Check(ctx, round)
	if err != nil {
		return err
	}
	if paused {
		a.Log.WarnContext(ctx, "sending paused by the round's circuit breaker", "round", round)
		return pg.ErrPaused
	}
	return nil
}
