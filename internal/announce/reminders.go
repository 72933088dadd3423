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
	// ReminderRow reads a reminder's ledger row; found is false when there is none.
	ReminderRow(ctx context.Context, round int, key string) (row Row, found bool, err error)
	// ClaimReminder writes a reminder's row as sending by run, on condition that it
	// does not exist (or, when row.Prev is set, that the run that left it still holds it).
	ClaimReminder(ctx context.Context, round int, row Row) error
	// SettleReminder writes a reminder's final state, on condition that run holds it.
	SettleReminder(ctx context.Context, round int, row Row) error
}

// Reminders emails everyone going to an event a reminder two days before it, once.
type Reminders struct {
	Store   ReminderStore
	Mailer  pg.Mailer
	Links   *links.Sealer
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
	Lease   time.Duration // as Announcer.Lease (default 15 minutes)
}

// Tally is what a reminders run did.
type Tally struct{ Sent, Failed, Skipped int }

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
				switch err := m.remind(ctx, r, g, e, a, run, lease); {
				case errors.Is(err, errSettled), errors.Is(err, ErrClaimed):
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

func (m *Reminders) remind(ctx context.Context, r pg.Round, g pg.Group, e pg.Event, a pg.Attendance, run string, lease time.Duration) error {
	key := RowKey("remind", e.GroupID, a.Email)
	row, found, err := m.Store.ReminderRow(ctx, r.Number, key)
	if err != nil {
		return err
	}
	now := m.Now()
	switch {
	case found && row.State != StateSending:
		return errSettled
	case found && now.Sub(row.ClaimedAt) < lease:
		return ErrClaimed // another run may be sending it now
	case found:
		row.Prev = row.Run
	default:
		row = Row{Key: key, Kind: "remind", Group: e.GroupID, Email: a.Email, Name: a.Name}
	}
	row.State, row.Run, row.ClaimedAt = StateSending, run, now
	if err := m.Store.ClaimReminder(ctx, r.Number, row); err != nil {
		return err
	}
	msg, err := m.message(r, g, e, a)
	if err == nil {
		// Once claimed, a reminder is sent and recorded whatever happens to the run.
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err = m.Mailer.Send(sendCtx, *msg); err == nil {
			row.State = StateSent
			return m.Store.SettleReminder(sendCtx, r.Number, row)
		}
		row.State, row.Reason = StateFailed, err.Error()
		if serr := m.Store.SettleReminder(sendCtx, r.Number, row); serr != nil {
			return serr
		}
	}
	return err
}

func (m *Reminders) message(r pg.Round, g pg.Group, e pg.Event, a pg.Attendance) (*pg.Message, error) {
	an := &Announcer{BaseURL: m.BaseURL, Links: m.Links, Now: m.Now}
	t, err := an.reminderTemplate(r, g, e)
	if err != nil {
		return nil, err
	}
	d, err := an.destination(r.Number, batch{kind: KindAnnounce, group: g, event: e}, recipient{email: a.Email, name: a.Name})
	if err != nil {
		return nil, err
	}
	return t.Render(d)
}
