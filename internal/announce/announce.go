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
	"math/rand/v2"
	"sort"
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
}

// Announcer sends a round's announcements.
type Announcer struct {
	Store   Store
	Mailer  pg.BulkMailer
	Links   *links.Sealer
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
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
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
	plan, err := a.plan(ctx, r)
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

// plan is who gets what: each group's facilitators the brief, and each group with
// an event its confirmed members the announcement.
type plan struct {
	round  pg.Round
	groups []pg.Group
	events map[string]pg.Event
	counts map[string]int
	total  int
}

func (a *Announcer) plan(ctx context.Context, r pg.Round) (*plan, error) {
	groups, err := a.Store.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	events, err := a.Store.Events(ctx, r.Number)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	p := &plan{round: r, events: map[string]pg.Event{}, counts: map[string]int{}}
	for _, e := range events {
		p.events[e.GroupID] = e
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].ID < groups[j].ID })
	// Each group is counted at the same time as the others: the first email waits for
	// the count, and the groups' queries do not depend on one another.
	facilitators := make([]int, len(groups))
	members := make([]int, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	slots := make(chan struct{}, planQueries)
	for i, g := range groups {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			f, err := a.Store.RoleHolders(ctx, pg.RoleFacilitator, g.ID)
			if err != nil {
				errs[i] = fmt.Errorf("list facilitators of %s: %w", g.ID, err)
				return
			}
			m, err := a.Store.CountMembers(ctx, g.ID, pg.StatusConfirmed)
			if err != nil {
				errs[i] = fmt.Errorf("count members of %s: %w", g.ID, err)
				return
			}
			facilitators[i], members[i] = len(f), m
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, g := range groups {
		p.counts[g.ID] = members[i]
		p.total += facilitators[i]
		if _, ok := p.events[g.ID]; ok {
			p.total += members[i]
		}
		p.groups = append(p.groups, g)
	}
	return p, nil
}

// planQueries is how many groups the plan counts at once.
const planQueries = 8

// produce hands out the batches in a fixed order.
func (p *plan) produce(ctx context.Context, a *Announcer, size int, emit func(batch) error) error {
	for _, g := range p.groups {
		event, hasEvent := p.events[g.ID]
		facilitators, err := a.Store.RoleHolders(ctx, pg.RoleFacilitator, g.ID)
		if err != nil {
			return fmt.Errorf("list facilitators of %s: %w", g.ID, err)
		}
		brief, err := a.briefTemplate(p.round, g, event, hasEvent, p.counts[g.ID])
		if err != nil {
			return err
		}
		var to []recipient
		for _, f := range facilitators {
			to = append(to, recipient{email: f})
		}
		for start := 0; start < len(to); start += size {
			if err := emit(batch{kind: pg.LedgerBrief, group: g, template: brief, to: to[start:min(start+size, len(to))]}); err != nil {
				return err
			}
		}
		if !hasEvent {
			continue // members are not told of an event that does not exist
		}
		announcement, err := a.announceTemplate(p.round, g, event)
		if err != nil {
			return err
		}
		err = a.Store.MemberPages(ctx, g.ID, pg.StatusConfirmed, func(rows []pg.MemberRow) error {
			for start := 0; start < len(rows); start += size {
				chunk := rows[start:min(start+size, len(rows))]
				to := make([]recipient, len(chunk))
				for i, m := range chunk {
					to[i] = recipient{email: m.Email, name: m.Name}
				}
				if err := emit(batch{kind: pg.LedgerAnnouncement, group: g, event: event, template: announcement, to: to}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

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
	return a.persist(ctx, func() error { return a.Store.Settle(ctx, round, id, rows, at) })
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
