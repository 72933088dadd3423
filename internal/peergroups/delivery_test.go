package peergroups_test

import (
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestTheCircuitBreakerTripsOnlyAfterEnoughSendsAndJudgesWhatCameAfterAResume(t *testing.T) {
	b := pg.Breaker{Percent: 4, MinSends: 100}
	for name, c := range map[string]struct {
		state pg.BreakerState
		now   pg.DeliveryCounts
		trips bool
	}{
		"the first bounce of three does not trip it":            {now: pg.DeliveryCounts{Sent: 2, Bounced: 1}},
		"below the minimum of sends, at any rate":               {now: pg.DeliveryCounts{Delivered: 80, Bounced: 19}},
		"at the minimum, under the threshold":                   {now: pg.DeliveryCounts{Delivered: 97, Bounced: 3}},
		"at the minimum, at the threshold":                      {now: pg.DeliveryCounts{Delivered: 96, Bounced: 4}, trips: true},
		"complaints are not bounces":                            {now: pg.DeliveryCounts{Delivered: 90, Complained: 10}},
		"after a resume, the same figures do not trip it again": {state: pg.BreakerState{Pauses: 1, ArmedSent: 100, ArmedBounced: 4}, now: pg.DeliveryCounts{Delivered: 96, Bounced: 4}},
		"after a resume, fewer than the minimum sent since":     {state: pg.BreakerState{Pauses: 1, ArmedSent: 100, ArmedBounced: 4}, now: pg.DeliveryCounts{Delivered: 146, Bounced: 8}},
		"after a resume, the rate since rises to the threshold": {state: pg.BreakerState{Pauses: 1, ArmedSent: 100, ArmedBounced: 4}, now: pg.DeliveryCounts{Delivered: 192, Bounced: 8}, trips: true},
	} {
		t.Run(name, func(t *testing.T) {
			trips, why := b.Trips(c.state, c.now)
			if trips != c.trips {
				t.Fatalf("trips %v, want %v (%s)", trips, c.trips, why)
			}
			if trips && (!strings.Contains(why, "bounced") || !strings.Contains(why, "4.0%")) {
				t.Errorf("the reason does not say what happened: %q", why)
			}
		})
	}
}

func TestRatesAgainstSESsReviewLevels(t *testing.T) {
	c := pg.DeliveryCounts{Delivered: 948, Bounced: 50, Complained: 2}
	if !c.BounceOverReview() || !c.ComplaintOverReview() || c.BouncePercent() != "5.0%" || c.ComplaintPercent() != "0.20%" {
		t.Errorf("%+v: bounce %s (over %v), complaints %s (over %v)", c, c.BouncePercent(), c.BounceOverReview(), c.ComplaintPercent(), c.ComplaintOverReview())
	}
	if (pg.DeliveryCounts{}).BounceOverReview() || (pg.DeliveryCounts{}).BouncePercent() != "0%" {
		t.Error("no emails is no bounce rate")
	}
}

func TestAPausedRoundIsNotStalled(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	pub := pg.Publication{Total: 10, Sent: 3, StartedAt: at, MovedAt: at}
	if !pub.Stalled(at.Add(time.Hour), pg.SendingLease) {
		t.Fatal("a round that has not moved for an hour is not stalled")
	}
	pub.Breaker = pg.BreakerState{Paused: true, Pause: pg.Pause{At: at, Reason: "bounces"}}
	if pub.Stalled(at.Add(time.Hour), pg.SendingLease) {
		t.Error("a round its breaker paused counts as stalled (and would raise the stalled-round alarm)")
	}
}
