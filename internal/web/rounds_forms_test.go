package web

import (
	"net/url"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

var testRound = pg.Round{Number: 1, PeriodStart: time.Date(2026, 12, 1, 0, 0, 0, 0, pg.London), PeriodEnd: time.Date(2026, 12, 31, 0, 0, 0, 0, pg.London)}

func eventForm(changes ...string) url.Values {
	v := url.Values{"date-day": {"9"}, "date-month": {"12"}, "date-year": {"2026"}, "start": {"14:00"}, "end": {"16:30"}, "venue": {"Guildhall"}, "capacity": {"30"}}
	for i := 0; i+1 < len(changes); i += 2 {
		v.Set(changes[i], changes[i+1])
	}
	return v
}

func TestDecodeEvent(t *testing.T) {
	cases := []struct {
		name, field, want string
		form              url.Values
	}{
		{"a complete event is accepted", "", "", eventForm()},
		{"online only is accepted", "", "", eventForm("venue", "", "online", "https://meet.example/abc")},
		{"no venue and no link is refused", "venue", "Enter a venue, an online link, or both", eventForm("venue", "")},
		{"a link that is not https is refused", "online", "The online link must be a web address starting with https://", eventForm("online", "javascript:alert(1)")},
		{"a date outside the period is refused", "date-day", "The date must be between 1 December 2026 and 31 December 2026", eventForm("date-month", "11")},
		{"31 November is refused", "date-day", "The date must be a real date", eventForm("date-day", "31", "date-month", "11")},
		{"an end before the start is refused", "end", "The end time must be after the start time", eventForm("end", "13:00")},
		{"a time that is not a time is refused", "start", "The start time must be a 24-hour time, like 14:30", eventForm("start", "2pm")},
		{"no capacity is refused", "capacity", "Enter how many people can come", eventForm("capacity", "")},
		{"a capacity of 0 is refused", "capacity", "Capacity must be a whole number from 1 to 10000", eventForm("capacity", "0")},
		{"a venue on two lines is refused", "venue", "Venue must be on one line", eventForm("venue", "A\nB")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, errs := decodeEvent(tc.form, testRound, "london")
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("errors: %v", errs)
				}
				if e.Start.Location() != pg.London || e.Start.Hour() != 14 || e.End.Sub(e.Start) != 150*time.Minute {
					t.Fatalf("times: %v to %v", e.Start, e.End)
				}
				return
			}
			if got := errs.For(tc.field); got != tc.want {
				t.Fatalf("%s: got %q, want %q (all %v)", tc.field, got, tc.want, errs)
			}
		})
	}
}

func TestDecodeRound(t *testing.T) {
	v := url.Values{"number": {"2"}, "title": {"Accessibility"}, "summary": {"Testing."},
		"start-day": {"1"}, "start-month": {"12"}, "start-year": {"2026"}, "end-day": {"30"}, "end-month": {"11"}, "end-year": {"2026"}}
	_, errs := decodeRound(v)
	if errs.For("end-day") != "The end of the period must be the same as or after its start" {
		t.Fatalf("an end before the start: %v", errs)
	}
	v.Set("end-month", "12")
	r, errs := decodeRound(v)
	if len(errs) > 0 || r.Number != 2 || r.State != pg.RoundDraft {
		t.Fatalf("%+v %v", r, errs)
	}
}
