package peergroups

import (
	"testing"
	"time"
)

func TestDurationsAreSaidAsPeopleSayThem(t *testing.T) {
	for d, want := range map[time.Duration]string{
		SignInLinkTTL:        "15 minutes",
		ConfirmLinkTTL:       "48 hours",
		ManageLinkTTLAsked:   "24 hours",
		InvitationLinkTTL:    "7 days",
		time.Hour:            "1 hour",
		time.Minute:          "1 minute",
		90 * time.Second:     "90 seconds",
		3 * 24 * time.Hour:   "3 days",
		25 * time.Hour:       "25 hours",
		365 * 24 * time.Hour: "365 days",
	} {
		if got := DurationText(d); got != want {
			t.Errorf("DurationText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAnEventsTimeIsSaidInLondon(t *testing.T) {
	for _, c := range []struct {
		start, end time.Time
		want       string
	}{
		{time.Date(2026, 3, 3, 14, 0, 0, 0, London), time.Date(2026, 3, 3, 16, 30, 0, 0, London), "Tuesday 3 March 2026, 2pm to 4:30pm"},
		// British Summer Time: 09:15 UTC is 10:15 in London.
		{time.Date(2026, 7, 1, 9, 15, 0, 0, time.UTC), time.Date(2026, 7, 1, 11, 0, 0, 0, time.UTC), "Wednesday 1 July 2026, 10:15am to 12pm"},
	} {
		if got := (Event{Start: c.start, End: c.end}).When(); got != c.want {
			t.Errorf("When() = %q, want %q", got, c.want)
		}
	}
}
