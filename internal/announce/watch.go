package announce

import (
	"context"
	"fmt"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// WatchStore is what the watch over the rounds' sending reads.
type WatchStore interface {
	Rounds(ctx context.Context) ([]pg.Round, error)
	Publication(ctx context.Context, round int) (pg.Publication, error)
}

// Stalled returns the published rounds whose announcements have not moved for longer
// than lease (pg.Publication.Stalled): no run is sending them, and the trigger's
// retries may have run out, so an admin must resume them. The reminders function
// looks every hour and publishes the count as a metric, which an alarm watches.
func Stalled(ctx context.Context, store WatchStore, now time.Time, lease time.Duration) ([]int, error) {
	rounds, err := store.Rounds(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rounds: %w", err)
	}
	var stalled []int
	for _, r := range rounds {
		if r.State != pg.RoundPublished {
			continue
		}
		pub, err := store.Publication(ctx, r.Number)
		if err != nil {
			return stalled, fmt.Errorf("read round %d's sending: %w", r.Number, err)
		}
		if pub.Stalled(now, lease) {
			stalled = append(stalled, r.Number)
		}
	}
	return stalled, nil
}

// Stalled returns the published rounds whose announcements have stalled, as the
// admins' round pages say (the announcements' lease, pg.SendingLease, without moving).
func (m *Reminders) Stalled(ctx context.Context) ([]int, error) {
	return Stalled(ctx, m.Watch, m.Now(), pg.SendingLease)
}
