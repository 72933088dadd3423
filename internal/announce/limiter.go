package announce

import (
	"context"
	"sync"
	"time"
)

// limiter keeps sends within a rate as the mail service sees them: in any second of
// arrival, at most rate emails. A batch counts from the moment it is let through until
// one second after its call returned (the mail service stamped it somewhere in
// between), so neither a burst at the start nor a batch that arrives late can push a
// second over the rate. (A token bucket would allow twice the rate across its first
// second, and a window over start times alone is beaten by arrival jitter.)
type limiter struct {
	mu    sync.Mutex
	rate  int
	sent  []*pass // let through and not yet a second past their return
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// pass is a batch let through: n emails, in flight until returned is set.
type pass struct {
	n        int
	returned time.Time
}

func newLimiter(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{rate: max(1, int(rate)), now: now, sleep: sleep}
}

// wait blocks until n more emails fit, and lets them through. The caller must call
// done with the pass when the call to the mail service has returned.
func (l *limiter) wait(ctx context.Context, n int) (*pass, error) {
	for {
		l.mu.Lock()
		now := l.now()
		kept, counted := l.sent[:0], 0
		next := 20 * time.Millisecond // poll while passes are in flight
		for _, p := range l.sent {
			if !p.returned.IsZero() && now.Sub(p.returned) >= time.Second {
				continue
			}
			kept = append(kept, p)
			counted += p.n
			if !p.returned.IsZero() {
				next = min(next, p.returned.Add(time.Second).Sub(now))
			}
		}
		l.sent = kept
		if counted+n <= l.rate || len(l.sent) == 0 {
			p := &pass{n: n}
			l.sent = append(l.sent, p)
			l.mu.Unlock()
			return p, nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, max(next, time.Millisecond)); err != nil {
			return nil, err
		}
	}
}

// done marks a pass's call as returned.
func (l *limiter) done(p *pass) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p.returned = l.now()
}
