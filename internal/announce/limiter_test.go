package announce

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// A fake clock that the limiter's sleeps move on.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

// call is one batch let through: when, how many, and when the mail service stamped it.
type call struct {
	n       int
	at      time.Time
	arrived time.Time
}

// simulate lets batches through the limiter as workers in parallel would: each call
// takes latency(i) and reaches the mail service at a random moment within it, and the
// next batch asks as soon as the limiter allows, without waiting for calls in flight.
func simulate(l *limiter, c *fakeClock, sizes []int, latency func(i int) time.Duration) []call {
	arrival := rand.New(rand.NewPCG(uint64(len(sizes)), 7))
	var calls []call
	for i, n := range sizes {
		p, _ := l.wait(context.Background(), n)
		took := latency(i)
		calls = append(calls, call{n: n, at: p.at, arrived: p.at.Add(time.Duration(arrival.Int64N(int64(took) + 1)))})
		resume := c.t
		c.t = p.at.Add(took) // the call returns (the clock is put back: others went on meanwhile)
		l.done(p)
		c.t = resume
	}
	return calls
}

// share is the emails let through a second, against the rate: the last batch aside,
// since the time it opens belongs to the next.
func share(calls []call, rate float64) float64 {
	emails := 0
	for _, c := range calls[:len(calls)-1] {
		emails += c.n
	}
	span := calls[len(calls)-1].at.Sub(calls[0].at)
	return float64(emails) / span.Seconds() / rate
}

func TestTheLimiterLetsBatchesThroughEvenlyNotInBursts(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(500, c.now, c.sleep)
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 50
	}
	calls := simulate(l, c, sizes, func(int) time.Duration { return 40 * time.Millisecond })
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].at.Sub(calls[i-1].at); gap < 100*time.Millisecond {
			t.Fatalf("batch %d went %v after the one before, want at least 100 ms (50 emails at 500 a second)", i, gap)
		}
	}
}

func TestQuickCallsUseNearlyAllTheRate(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(500, c.now, c.sleep)
	sizes := make([]int, 200) // 10,000 emails
	for i := range sizes {
		sizes[i] = 50
	}
	// Calls of 10 to 30 ms, with a slow one now and then.
	calls := simulate(l, c, sizes, func(i int) time.Duration {
		if i%50 == 49 {
			return 400 * time.Millisecond
		}
		return 10*time.Millisecond + time.Duration(i%5)*5*time.Millisecond
	})
	if got := share(calls, 500); got < 0.95 {
		t.Fatalf("%.3f of the rate used, want at least 0.95", got)
	}
}

func TestTheLimiterNeverLetsASecondOfArrivalOverTheRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64
		size func(r *rand.Rand) int
		took func(r *rand.Rand) time.Duration
	}{
		{"full batches, quick calls", 500, func(*rand.Rand) int { return 50 }, func(r *rand.Rand) time.Duration {
			return 20*time.Millisecond + time.Duration(r.Int64N(int64(30*time.Millisecond)))
		}},
		{"full batches, slow uneven calls", 500, func(*rand.Rand) int { return 50 }, func(r *rand.Rand) time.Duration {
			return 100*time.Millisecond + time.Duration(r.Int64N(int64(200*time.Millisecond)))
		}},
		{"batches of every size", 500, func(r *rand.Rand) int { return 1 + r.IntN(50) }, func(r *rand.Rand) time.Duration {
			return 20*time.Millisecond + time.Duration(r.Int64N(int64(60*time.Millisecond)))
		}},
		{"SES's starting rate", 14, func(r *rand.Rand) int { return 1 + r.IntN(14) }, func(r *rand.Rand) time.Duration {
			return 50*time.Millisecond + time.Duration(r.Int64N(int64(50*time.Millisecond)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 123e6, time.UTC)}
			l := newLimiter(tc.rate, c.now, c.sleep)
			sizes := make([]int, 300)
			for i := range sizes {
				sizes[i] = tc.size(r)
			}
			calls := simulate(l, c, sizes, func(int) time.Duration { return tc.took(r) })
			perSecond := map[int64]int{}
			for _, c := range calls {
				perSecond[c.arrived.Unix()] += c.n
			}
			for second, n := range perSecond {
				if float64(n) > tc.rate {
					t.Fatalf("%d emails arrived in the second %v, more than the rate of %.0f", n, time.Unix(second, 0).UTC(), tc.rate)
				}
			}
			// And in any second, not only calendar ones.
			for i := range calls {
				n := 0
				for j := range calls {
					if d := calls[j].arrived.Sub(calls[i].arrived); d >= 0 && d < time.Second {
						n += calls[j].n
					}
				}
				if float64(n) > tc.rate {
					t.Fatalf("%d emails arrived in the second from %v", n, calls[i].arrived)
				}
			}
		})
	}
}

func TestAStoppedWaitReturnsItsError(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	stopped := func(context.Context, time.Duration) error { return context.Canceled }
	l := newLimiter(10, c.now, stopped)
	if _, err := l.wait(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := l.wait(context.Background(), 10); err != context.Canceled {
		t.Fatalf("a second batch at once: %v, want the sleep's error", err)
	}
}

func TestTheDefaultMarginCoversTheLongestSendAndSettle(t *testing.T) {
	a := &Announcer{}
	if a.margin() <= a.sendBudget()+a.settleBudget() {
		t.Fatalf("margin %v does not cover a send of up to %v and a settle of up to %v", a.margin(), a.sendBudget(), a.settleBudget())
	}
}
