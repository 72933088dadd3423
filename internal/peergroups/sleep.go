package peergroups

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done, whichever comes first, and then returns
// ctx's error if it is done: the pause of every retry with backoff in the service.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
