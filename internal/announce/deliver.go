// Delivering one batch exactly once: claim its ledger rows, wait for the rate, send,
// settle; hand back what was not sent; retry what DynamoDB or the mail service refused
// for now.

package announce

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// process sends one batch. Most batches are new, so it first claims every row as
// new without reading the ledger; when any row exists already (a redelivery, another
// run), that claim writes nothing, and the ledger is read to claim only what is left.
func (a *Announcer) process(ctx context.Context, round int, run string, b batch, limiter *limiter, suppressed map[string]bool) error {
	todo, quiet, byKey := a.rows(b, run, suppressed, nil)
	err := a.deliver(ctx, round, b, limiter, todo, quiet, byKey, true)
	if !errors.Is(err, pg.ErrClaimed) {
		return err
	}
	ids := make([]pg.LedgerID, len(b.to))
	for i, r := range b.to {
		ids[i] = b.id(r)
	}
	existing, err := a.Store.LedgerRows(ctx, round, ids)
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	todo, quiet, byKey = a.rows(b, run, suppressed, existing)
	return a.deliver(ctx, round, b, limiter, todo, quiet, byKey, false)
}

// rows returns the rows of a batch this run should claim: those not in existing (nil
// for "assume none"), those the mail service deferred, and those left sending by a run
// whose lease has passed; the suppressed apart.
func (a *Announcer) rows(b batch, run string, suppressed map[string]bool, existing map[pg.LedgerID]pg.LedgerRow) (todo, quiet []pg.LedgerRow, byKey map[pg.LedgerID]recipient) {
	now := a.Now()
	byKey = map[pg.LedgerID]recipient{}
	for _, r := range b.to {
		id := b.id(r)
		row, found := existing[id]
		switch {
		case !found:
			row = pg.LedgerRow{LedgerID: id, Name: r.name}
		case row.State == pg.LedgerDeferred:
			// to be tried again, by whichever run comes first
		case row.State != pg.LedgerSending:
			continue // settled already
		case row.Run == run || now.Sub(row.ClaimedAt) < a.lease():
			continue // held by a run that may still be alive
		}
		row.Prev, row.PrevState = row.Run, row.State
		row.State, row.Run, row.ClaimedAt = pg.LedgerSending, run, now
		byKey[row.LedgerID] = r
		if suppressed[r.email] {
			quiet = append(quiet, row)
		} else {
			todo = append(todo, row)
		}
	}
	return todo, quiet, byKey
}

// retries is how many times one run sends a deferred recipient again before leaving
// it to the next run.
const retries = 3

// deliver claims rows, settles the suppressed, waits for the rate, sends the rest and
// settles them; recipients the mail service deferred are sent again after a pause, a
// few times. When a claim finds a row taken, it returns pg.ErrClaimed if optimistic (so
// that the caller reads the ledger), and nothing otherwise (another run has them).
func (a *Announcer) deliver(ctx context.Context, round int, b batch, limiter *limiter, todo, quiet []pg.LedgerRow, byKey map[pg.LedgerID]recipient, optimistic bool) error {
	taken := func() error {
		if optimistic {
			return pg.ErrClaimed
		}
		return nil
	}
	if len(quiet) > 0 {
		switch err := a.claim(ctx, round, quiet); {
		case errors.Is(err, pg.ErrClaimed):
			return taken()
		case err != nil:
			return err
		}
		for i := range quiet {
			quiet[i].State, quiet[i].Reason = pg.LedgerSuppressed, "the address is on the suppression list"
		}
		if err := a.settle(ctx, round, quiet); err != nil {
			return fmt.Errorf("settle suppressed: %w", err)
		}
	}
	backoff := time.Second
	for attempt := 0; len(todo) > 0; attempt++ {
		// Claim, then wait for the rate, then send at once: the limiter's pacing is
		// then the pacing of the calls. A run stopped while waiting hands its rows
		// back (deferred), so that the next run need not wait for their lease.
		if err := a.claim(ctx, round, todo); err != nil {
			if errors.Is(err, pg.ErrClaimed) {
				return taken()
			}
			return err
		}
		optimistic = false // from here on, rows taken were taken from us
		p, err := limiter.wait(ctx, len(todo))
		if err != nil {
			return errors.Join(err, a.handBack(ctx, round, todo))
		}
		deferred, err := a.sendAndSettle(ctx, round, b, limiter, p, todo, byKey)
		if err != nil || len(deferred) == 0 || attempt == retries {
			return err // deferred rows left for the next run
		}
		a.Log.WarnContext(ctx, "the mail service deferred some recipients: trying again", "round", round, "recipients", len(deferred), "wait", backoff.String())
		if err := a.sleep(ctx, jitter(backoff)); err != nil {
			return err
		}
		backoff *= 2
		now := a.Now()
		for i := range deferred {
			deferred[i].Prev, deferred[i].PrevState = deferred[i].Run, pg.LedgerDeferred
			deferred[i].State, deferred[i].ClaimedAt, deferred[i].Reason = pg.LedgerSending, now, ""
		}
		todo = deferred
	}
	return nil
}

// handBack settles claimed rows as deferred without sending them.
func (a *Announcer) handBack(ctx context.Context, round int, rows []pg.LedgerRow) error {
	for i := range rows {
		rows[i].State, rows[i].Reason = pg.LedgerDeferred, "not sent: the run stopped before its turn"
	}
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.settleBudget())
	defer cancel()
	if err := a.settle(settleCtx, round, rows); err != nil {
		return fmt.Errorf("hand back unsent rows: %w", err)
	}
	return nil
}

// sendAndSettle sends claimed rows and settles them, and returns the rows the mail
// service deferred (settled as deferred). Once claimed, a batch is not interrupted by
// a cancelled run: a send that the mail service has accepted must be recorded, or the
// next run would send it again. The send and the settle each have their own budget,
// which the run's deadline margin covers.
func (a *Announcer) sendAndSettle(ctx context.Context, round int, b batch, limiter *limiter, p *pass, todo []pg.LedgerRow, byKey map[pg.LedgerID]recipient) ([]pg.LedgerRow, error) {
	dests := make([]pg.BulkDestination, len(todo))
	for i, row := range todo {
		d, err := a.destination(round, b, byKey[row.LedgerID])
		if err != nil {
			limiter.done(p)
			return nil, err
		}
		dests[i] = d
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.sendBudget())
	results, err := a.send(sendCtx, b.template, dests, limiter, p)
	cancel()
	if err != nil {
		return nil, err
	}
	var deferred []pg.LedgerRow
	for i := range todo {
		switch r := results[i]; {
		case r.MessageID != "":
			todo[i].State, todo[i].MessageID, todo[i].Reason = pg.LedgerSent, r.MessageID, ""
		case r.Later:
			todo[i].State, todo[i].Reason = pg.LedgerDeferred, r.Error
		default:
			todo[i].State, todo[i].Reason = pg.LedgerFailed, r.Error
		}
	}
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.settleBudget())
	defer cancel()
	if err := a.settle(settleCtx, round, todo); err != nil {
		return nil, fmt.Errorf("settle batch: %w", err)
	}
	for _, row := range todo {
		if row.State == pg.LedgerDeferred {
			deferred = append(deferred, row)
		}
	}
	return deferred, nil
}

// claim claims rows, trying again while DynamoDB cancels it for conflicting writes or
// throttling.
func (a *Announcer) claim(ctx context.Context, round int, rows []pg.LedgerRow) error {
	err := a.persist(ctx, func() error { return a.Store.Claim(ctx, round, rows) })
	if err != nil && !errors.Is(err, pg.ErrClaimed) {
		return fmt.Errorf("claim: %w", err)
	}
	return err
}

// settle records rows' states, trying again (with the same idempotency token) while
// DynamoDB cancels it for conflicting writes or throttling, until ctx ends.
func (a *Announcer) settle(ctx context.Context, round int, rows []pg.LedgerRow) error {
	id, at := rows[0].Run+"-"+runID(), a.Now()
	if err := a.persist(ctx, func() error { return a.Store.Settle(ctx, round, id, rows, at) }); err != nil {
		return err
	}
	a.auditBatch(ctx, round, id, rows, at)
	return nil
}

// persist calls write until it succeeds or fails for a reason other than a busy or
// unreachable table, waiting a jittered, growing pause between attempts.
func (a *Announcer) persist(ctx context.Context, write func() error) error {
	backoff := 25 * time.Millisecond
	for {
		err := write()
		if err == nil || pg.KindOf(err) != pg.KindUnavailable {
			return err
		}
		a.Log.WarnContext(ctx, "the table is busy: trying the write again", "error", err.Error())
		if serr := a.sleep(ctx, jitter(backoff)); serr != nil {
			return fmt.Errorf("%w (stopped trying: %w)", err, serr)
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// jitter returns a random duration between d/2 and d, so that workers that collided
// do not collide again.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// send calls the mail service (the caller has waited for the rate), backing off and
// waiting for the rate again while it throttles.
func (a *Announcer) send(ctx context.Context, t pg.BulkTemplate, dests []pg.BulkDestination, limiter *limiter, p *pass) ([]pg.BulkResult, error) {
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			var err error
			if p, err = limiter.wait(ctx, len(dests)); err != nil {
				return nil, err
			}
		}
		results, err := a.Mailer.SendBulk(ctx, t, dests)
		limiter.done(p)
		if err == nil {
			return results, nil
		}
		if !errors.Is(err, pg.ErrThrottled) {
			return nil, err
		}
		a.Log.WarnContext(ctx, "mail service throttling: backing off", "wait", backoff.String())
		if err := a.sleep(ctx, backoff); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
