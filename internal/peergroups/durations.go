package peergroups

import (
	"strconv"
	"strings"
	"time"
)

// DurationText says how long a duration is the way a person would: "15 minutes",
// "48 hours", "7 days", "1 hour". It names the largest unit that divides it exactly
// (but counts in hours up to two days, as "48 hours"), so that a message built from a
// rule's constant says exactly what the rule does.
func DurationText(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	const day = 24 * time.Hour
	switch {
	case d > 2*day && d%day == 0:
		return unit(int64(d/day), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}

// When describes an event's time in London, for people: "Tuesday 3 March 2026, 2pm to
// 4:30pm". Pages and emails show an event's time through it.
func (e Event) When() string {
	clock := func(t time.Time) string {
		return strings.Replace(strings.ToLower(t.In(London).Format("3:04PM")), ":00", "", 1)
	}
	return e.Start.In(London).Format("Monday 2 January 2006") + ", " + clock(e.Start) + " to " + clock(e.End)
}
