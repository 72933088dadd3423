package announce

import (
	"context"
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

func TestTheLimiterCountsABatchUntilASecondAfterItReturned(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(100, c.now, c.sleep)
	start := c.t
	a, _ := l.wait(context.Background(), 50)
	b, _ := l.wait(context.Background(), 50)
	if c.t != start {
		t.Fatalf("the first 100 waited %v", c.t.Sub(start))
	}
	c.t = c.t.Add(300 * time.Millisecond) // the calls take 300 ms
	l.done(a)
	l.done(b)
	l.wait(context.Background(), 50)
	if waited := c.t.Sub(start); waited < 1300*time.Millisecond {
		t.Fatalf("the third batch went after %v, want a second after the first two returned (1.3 s)", waited)
	}
}

func TestTheLimiterNeverLetsASecondOverTheRate(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(120, c.now, c.sleep)
	var starts []time.Time
	for range 40 {
		p, _ := l.wait(context.Background(), 30)
		starts = append(starts, c.t)
		c.t = c.t.Add(15 * time.Millisecond)
		l.done(p)
	}
	for i := range starts {
		n := 0
		for j := range starts {
			if d := starts[j].Sub(starts[i]); d >= 0 && d < time.Second {
				n += 30
			}
		}
		if n > 120 {
			t.Fatalf("%d emails in the second from %v", n, starts[i])
		}
	}
}
