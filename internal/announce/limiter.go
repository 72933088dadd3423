package announce

import (
	"context"
	"sync"
	"time"
)

// limiter keeps sends within a rate: in any window of one second, at most rate
// emails. It remembers what it let through in the last second, so a burst at the
// start cannot exceed the rate either (a token bucket would allow twice the rate
// across its first second).
type limiter struct {
	mu    sync.Mutex
	rate  int
	sent  []stamped // what went in the last second, oldest first
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// window is one second and a little more, so that a batch that arrives at the mail
// service a few milliseconds late cannot land in the same second as the rate's worth
// that went before it.
const window = time.Second + 20*time.Millisecond

type stamped struct {
	at time.Time
	n  int
}

func newLimiter(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{rate: max(1, int(rate)), now: now, sleep: sleep}
}

// wait blocks until n more emails fit in the last second, and records them.
func (l *limiter) wait(ctx context.Context, n int) error {
	for {
		l.mu.Lock()
		now := l.now()
		for len(l.sent) > 0 && now.Sub(l.sent[0].at) >= window {
			l.sent = l.sent[1:]
		}
		inWindow := 0
		for _, s := range l.sent {
			inWindow += s.n
		}
		if inWindow+n <= l.rate || len(l.sent) == 0 {
			l.sent = append(l.sent, stamped{at: now, n: n})
			l.mu.Unlock()
			return nil
		}
		// Wait until enough of the oldest sends leave the window.
		need, freed, until := inWindow+n-l.rate, 0, l.sent[0].at
		for _, s := range l.sent {
			freed += s.n
			until = s.at
			if freed >= need {
				break
			}
		}
		wait := until.Add(window).Sub(now)
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}
