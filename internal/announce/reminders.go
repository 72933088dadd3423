package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// ReminderWindow is how long before an event its reminder goes: two days.
const ReminderWindow = 48 * time.Hour

// ReminderStore is what the reminders need of the table.
type ReminderStore interface {
	Rounds(ctx context.Context) ([]pg.Round, error)
	Events(ctx context.Context, round int) ([]pg.Event, error)
	Groups(ctx context.Context) ([]pg.Group, error)
	Attendees(ctx context.Context, round int, group string) ([]pg.Attendance, error)
	// Person reads everything about a person (are they still in the group?).
	Person(ctx context.Context, email string) (pg.Person, error)
	Suppressed(ctx context.Context) (map[string]bool, error)
	// ReminderRow reads a reminder's ledger row; found is false when there is none.
	ReminderRow(ctx context.Context, round int, id pg.LedgerID) (row pg.LedgerRow, found bool, err error)
	// ClaimReminder writes a reminder's row as sending by run, on condition that it
	// does not exist (or, when row.Prev is set, that the run that left it still holds it).
	ClaimReminder(ctx context.Context, round int, row pg.LedgerRow) error
	// SettleReminder writes a reminder's final state at a time, on condition that run
	// holds it.
	SettleReminder(ctx context.Context, round int, row pg.LedgerRow, at time.Time) error
	// AppendAudit records a reminder settled in the audit trail.
	AppendAudit(ctx context.Context, a pg.AuditEntry) error
}

// ReminderMailer sends one email, returning the message ID the mail service gave it, and
// says how many a second the mail service allows.
type ReminderMailer interface {
	SendMessage(ctx context.Context, m pg.Message) (string, error)
	MaxSendRate(ctx context.Context) (float64, error)
}

// Reminders emails everyone going to an event a reminder two days before it, once:
// those still in the group and not on the suppression list, within the share of the
// send rate that announcements leave (Share), waiting out the mail service's throttling.
type Reminders struct {
	Store   ReminderStore
	Mailer  ReminderMailer
	Links   *links.Sealer
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
	Lease   time.Duration // as Announcer.Lease (default pg.SendingLease)
	// Share is the share of the mail service's rate reminders may use: the share that
	// announcements leave (TRANSACTIONAL_SHARE), since a round may be sending at once.
	Share float64
	// Sleep waits, and Elapsed is the clock the rate is kept by (as the Announcer's).
	Sleep   func(context.Context, time.Duration) error
	Elapsed func() time.Time
	// Watch is read for the rounds whose sending has stalled (see Stalled): the
	// reminders function runs every hour, and looks for them too.
	Watch WatchStore
	// Pseudonym keys the hash that names a recipient in the audit trail (the keyring's).
	Pseudonym func(parts ...string) string
}

// Tally is what a reminders run did.
type Tally struct{ Sent, Failed, Skipped, Left, Suppressed int }

// Run sends the reminders that are due: events starting within two days that have
// not started, to everyone going, each person once per event. Runs may overlap or
// repeat: the ledger keeps each reminder to one email.
func (m *Reminders) Run(ctx context.Context) (Tally, error) {
	var tally Tally
	now := m.Now()
	rounds, err := m.Store.Rounds(ctx)
	if err != nil {
		return tally, fmt.Errorf("list rounds: %w", err)
	}
	groups, err := m.Store.Groups(ctx)
	if err != nil {
		return tally, fmt.Errorf("list groups: %w", err)
	}
	suppressed, err := m.Store.Suppressed(ctx)
	if err != nil {
		return tally, fmt.Errorf("read suppressed addresses: %w", err)
	}
	rate, err := m.Mailer.MaxSendRate(ctx)
	if err != nil {
		return tally, fmt.Errorf("read the maximum send rate: %w", err)
	}
	a := &Announcer{Sleep: m.Sleep, Log: m.Log}
	elapsed := m.Elapsed
	if elapsed == nil {
		elapsed = time.Now
	}
	limiter := newLimiter(max(1, rate*m.Share), elapsed, a.sleep)
	run := runID()
	lease := m.Lease
	if lease == 0 {
		lease = pg.SendingLease
	}
	for _, r := range rounds {
		if r.State != pg.RoundPublished {
			continue
		}
		events, err := m.Store.Events(ctx, r.Number)
		if err != nil {
			return tally, fmt.Errorf("list events of round %d: %w", r.Number, err)
		}
		for _, e := range events {
			if !e.Start.After(now) || e.Start.Sub(now) > ReminderWindow {
				continue
			}
			g, _ := pg.FindGroup(groups, e.GroupID)
			attendees, err := m.Store.Attendees(ctx, r.Number, e.GroupID)
			if err != nil {
				return tally, fmt.Errorf("list attendees: %w", err)
			}
			for _, a := range attendees {
				if a.Status != pg.Going {
					continue
				}
				if suppressed[a.Email] {
					tally.Suppressed++
					continue
				}
				person, err := m.Store.Person(ctx, a.Email)
				if err != nil && pg.KindOf(err) != pg.KindNotFound {
					return tally, fmt.Errorf("read attendee: %w", err)
				}
				if !person.IsMember(e.GroupID) {
					tally.Left++ // left the group since answering: no more email from it
					continue
				}
				switch err := m.remind(ctx, r, g, e, a, run, lease, limiter); {
				case errors.Is(err, errSettled), errors.Is(err, pg.ErrClaimed):
					tally.Skipped++
				case err != nil:
					m.Log.ErrorContext(ctx, "reminder failed", "round", r.Number, "group", e.GroupID, "error", err)
					tally.Failed++
				default:
					tally.Sent++
				}
			}
		}
	}
	return tally, nil
}

var errSettled = errors.New("reminder already settled")

func (m *Reminders) remind(ctx context.Context, r pg.Round, g pg.Group, e pg.Event, a pg.Attendance, run string, lease time.Duration, limiter *limiter) error {
	id := pg.LedgerID{Kind: pg.LedgerReminder, Group: e.GroupID, Email: a.Email}
	row, found, err := m.Store.ReminderRow(ctx, r.Number, id)
	if err != nil {
		return err
	}
	now := m.Now()
	switch {
	case found && row.State != pg.LedgerSending:
		return errSettled
	case found && now.Sub(row.ClaimedAt) < lease:
		return pg.ErrClaimed // another run may be sending it now
	case found:
		row.Prev = row.Run
	default:
		row = pg.LedgerRow{LedgerID: id, Name: a.Name}
	}
	row.State, row.Run, row.ClaimedAt = pg.LedgerSending, run, now
	if err := m.Store.ClaimReminder(ctx, r.Number, row); err != nil {
		return err
	}
	msg, err := m.message(r, g, e, a)
	if err == nil {
		msg.Tags = pg.LedgerTags(r.Number, pg.LedgerReminder, e.GroupID)
		// Once claimed, a reminder is sent and recorded whatever happens to the run.
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var sesID string
		if sesID, err = m.send(sendCtx, *msg, limiter); err == nil {
			// Kept with the row, a reply to the reminder finds its group (mail in).
			row.State, row.MessageID = pg.LedgerSent, sesID
			if err := m.Store.SettleReminder(sendCtx, r.Number, row, m.Now()); err != nil {
				return err
			}
			m.audit(sendCtx, r.Number, row)
			return nil
		}
		row.State, row.Reason = pg.LedgerFailed, err.Error()
		if serr := m.Store.SettleReminder(sendCtx, r.Number, row, m.Now()); serr != nil {
			return serr
		}
		m.audit(sendCtx, r.Number, row)
	}
	return err
}

func (m *Reminders) message(r pg.Round, g pg.Group, e pg.Event, a pg.Attendance) (*pg.Message, error) {
	an := &Announcer{BaseURL: m.BaseURL, Links: m.Links, Now: m.Now}
	t, err := an.reminderTemplate(r, g, e)
	if err != nil {
		return nil, err
	}
	d, err := an.destination(r.Number, batch{kind: pg.LedgerAnnouncement, group: g, event: e}, recipient{email: a.Email, name: a.Name})
	if err != nil {
		return nil, err
	}
	return t.Render(d)
}

// send sends one reminder within the rate, backing off and trying again while the mail
// service throttles.
func (m *Reminders) send(ctx context.Context, msg pg.Message, limiter *limiter) (string, error) {
	a := &Announcer{Sleep: m.Sleep}
	backoff := 200 * time.Millisecond
	for {
		p, err := limiter.wait(ctx, 1)
		if err != nil {
			return "", err
		}
		id, err := m.Mailer.SendMessage(ctx, msg)
		limiter.done(p)
		if !errors.Is(err, pg.ErrThrottled) {
			return id, err
		}
		m.Log.WarnContext(ctx, "mail service throttling: backing off", "wait", backoff.String())
		if err := a.sleep(ctx, jitter(backoff)); err != nil {
			return "", err
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// audit records a reminder settled (sent, or refused) in the audit trail, once: a
// reminder settled is never claimed again. It is out whatever the audit trail says.
func (m *Reminders) audit(ctx context.Context, round int, row pg.LedgerRow) {
	action := "send reminder"
	if row.State == pg.LedgerFailed {
		action = "reminder refused"
	}
	if err := m.Store.AppendAudit(ctx, pg.MailOutEntry(m.Now(), action, pg.MailOutTarget(m.Pseudonym, row.Email), map[string]any{"kind": row.Kind, "round": round, "group": row.Group})); err != nil {
		m.Log.WarnContext(ctx, "the audit entry of a reminder was not written", "round", round, "group", row.Group, "error", err)
	}
}
