package announce

import (
	"context"
	"sync"
	"time"
)

// limiter keeps sends within a rate as the mail service sees them: in any second of
// arrival, at most rate emails.
//
// It paces batches evenly: a batch of n emails is let through n/rate seconds after the
// one before, stretched by the arrival jitter (how much later one call may reach the
// mail service than another after being let through), so that the batches let through
// in any (1 s + jitter) can arrive within one second and still not exceed the rate. As
// a guard, a batch also waits while the emails let through in the last (1 s + jitter)
// and its own would be more than the rate. The jitter is estimated from the recent
// calls themselves (see jitter).
//
// With 50 emails a batch at 500 a second and calls whose times vary by 20 ms, a batch
// goes every 102 ms: 98 % of the rate. (Counting each batch until a second after its
// call returned, as this limiter once did, left 6 to 14 % of the rate unused.)
type limiter struct {
	mu       sync.Mutex
	rate     float64
	next     time.Time // the earliest the next batch may go
	released []*pass   // let through within the last window
	took     []time.Duration
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

// pass is a batch let through: n emails at a time.
type pass struct {
	n  int
	at time.Time
}

const (
	// recentCalls is how many calls the jitter is estimated from.
	recentCalls = 64
	// Bounds of the jitter estimate: before any call has returned it is the most.
	minJitter, maxJitter = 10 * time.Millisecond, 250 * time.Millisecond
)

func newLimiter(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{rate: max(1, rate), now: now, sleep: sleep}
}

// jitter is the current estimate of the arrival jitter. The caller holds l.mu. A call
// arrives somewhere between being let through and returning, so the longest call is a
// bound; once there are enough calls to tell, calls that take about as long arrive
// about as late, and the spread of their durations (and half as much again) is closer.
func (l *limiter) jitter() time.Duration {
	if len(l.took) == 0 {
		return maxJitter
	}
	lo, hi := l.took[0], l.took[0]
	for _, d := range l.took[1:] {
		lo, hi = min(lo, d), max(hi, d)
	}
	j := hi
	if len(l.took) >= 16 {
		j = min(j, (hi-lo)*3/2)
	}
	return min(max(j, minJitter), maxJitter)
}

// wait blocks until n more emails may go, and lets them through: the caller calls the
// mail service at once, and then done with the pass.
func (l *limiter) wait(ctx context.Context, n int) (*pass, error) {
	for {
		l.mu.Lock()
		now := l.now()
		window := time.Second + l.jitter()
		at := now
		if l.next.After(at) {
			at = l.next
		}
		// The guard: the emails let through in the window before at, and these.
		counted := n
		kept := l.released[:0]
		for _, p := range l.released {
			if now.Sub(p.at) < window {
				kept = append(kept, p)
			}
			if at.Sub(p.at) < window {
				counted += p.n
			}
		}
		l.released = kept
		if float64(counted) > l.rate && len(kept) > 0 {
			// Wait until the oldest batch in the window leaves it.
			at = kept[0].at.Add(window)
		}
		if !at.After(now) {
			p := &pass{n: n, at: now}
			l.released = append(l.released, p)
			gap := time.Duration(float64(n) / l.rate * float64(window))
			l.next = now.Add(gap)
			l.mu.Unlock()
			return p, nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, at.Sub(now)); err != nil {
			return nil, err
		}
	}
}

// done records how long a pass's call took, for the jitter estimate.
func (l *limiter) done(p *pass) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.took = append(l.took, l.now().Sub(p.at))
	if len(l.took) > recentCalls {
		l.took = l.took[len(l.took)-recentCalls:]
	}
}
