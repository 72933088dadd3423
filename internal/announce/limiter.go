package announce

import (
	"context"
	"sync"
	"time"
)

// limiter keeps sends within a rate as the mail service sees them: in any second of
// arrival, at most rate emails.
//
// It paces batches evenly: a batch of n emails is let through no sooner than n/rate
// seconds after the one before, so batches never queue at the mail service behind one
// another (a burst would make every call in it slower). And it keeps a guarantee that
// needs no guess about the network: a call reaches the mail service somewhere between
// being let through and returning, so a batch counts against the rate from the moment
// it is let through until one second after its call returned, and a batch waits while
// those counted and its own would be more than the rate. Any batches that arrive within
// one second are all counted when the last of them is let through, so no second of
// arrival can exceed the rate.
//
// The cost is each call's duration: with calls of 20 ms, 98 % of the rate is used.
// (Counting the same way without the pacing, as this limiter once did, let a second's
// worth of batches go at once; they queued at the mail service, every call in the burst
// took longer, and 6 to 14 % of the rate went unused.)
type limiter struct {
	mu    sync.Mutex
	rate  float64
	next  time.Time // the earliest the next batch may go
	sent  []*pass   // let through, and not yet a second past their return
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// pass is a batch let through: n emails, in flight until returned is set.
type pass struct {
	n        int
	at       time.Time
	returned time.Time
}

// poll is how often a batch that waits on calls in flight looks again.
const poll = 5 * time.Millisecond

func newLimiter(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{rate: max(1, rate), now: now, sleep: sleep}
}

// wait blocks until n more emails may go, and lets them through: the caller calls the
// mail service at once, and then done with the pass.
func (l *limiter) wait(ctx context.Context, n int) (*pass, error) {
	for {
		l.mu.Lock()
		now := l.now()
		at := now
		if l.next.After(at) {
			at = l.next
		}
		counted, kept := n, l.sent[:0]
		var freed time.Time // when the next returned batch stops counting
		for _, p := range l.sent {
			if !p.returned.IsZero() && now.Sub(p.returned) >= time.Second {
				continue
			}
			kept = append(kept, p)
			if p.returned.IsZero() || at.Sub(p.returned) < time.Second {
				counted += p.n
				if end := p.returned.Add(time.Second); !p.returned.IsZero() && (freed.IsZero() || end.Before(freed)) {
					freed = end
				}
			}
		}
		l.sent = kept
		if float64(counted) > l.rate && len(kept) > 0 {
			if freed.IsZero() {
				at = now.Add(poll) // only calls in flight: look again shortly
			} else {
				at = freed
			}
		}
		if !at.After(now) {
			p := &pass{n: n, at: now}
			l.sent = append(l.sent, p)
			l.next = now.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
			l.mu.Unlock()
			return p, nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, at.Sub(now)); err != nil {
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
