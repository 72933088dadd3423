package web

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// roundFields and eventFields are the forms' fields, in order; a date is named after
// its day input, which its problems link to.
var (
	roundFields = []string{"number", "title", "summary", "start-day", "end-day"}
	eventFields = []string{"date-day", "start", "end", "venue", "address", "online", "capacity", "note"}
)

// decodeRound reads the new round form.
func decodeRound(v url.Values) (pg.Round, pg.FieldErrors) {
	r := pg.Round{Title: text(v, "title"), Summary: paragraph(v, "summary"), State: pg.RoundDraft}
	var unread pg.FieldErrors
	if n := text(v, "number"); n != "" {
		num, err := strconv.Atoi(n)
		if err != nil || num < 1 {
			unread = append(unread, pg.FieldError{Field: "number", Message: "Round number must be a whole number from 1 to 9999"})
		}
		r.Number = num
	}
	var bad string
	if r.PeriodStart, bad = dateField(v, "start"); bad != "" {
		unread = append(unread, pg.FieldError{Field: "start-day", Message: "The start of the period must be a real date"})
	}
	if r.PeriodEnd, bad = dateField(v, "end"); bad != "" {
		unread = append(unread, pg.FieldError{Field: "end-day", Message: "The end of the period must be a real date"})
	}
	errs := inOrder(roundFields, unread, pg.ValidateRound(r))
	if errs.For("number") != "" {
		r.Number = 0
	}
	if errs.For("end-day") != "" {
		r.PeriodEnd = time.Time{}
	}
	return r, errs
}

// decodeEvent reads a group's event form for round r: a GOV.UK date input, and the
// start and end times on that day in London.
func decodeEvent(v url.Values, r pg.Round, group string) (pg.Event, pg.FieldErrors) {
	e := pg.Event{Round: r.Number, GroupID: group, Venue: text(v, "venue"), Address: paragraph(v, "address"),
		OnlineURL: text(v, "online"), Note: paragraph(v, "note")}
	var unread pg.FieldErrors
	unreadable := func(field, message string) { unread = append(unread, pg.FieldError{Field: field, Message: message}) }
	day, bad := dateField(v, "date")
	switch {
	case bad != "":
		unreadable("date-day", "The date must be a real date")
	case day.IsZero():
		unreadable("date-day", "Enter the date of the event")
	}
	clock := func(name, label string) (time.Duration, bool) {
		s := text(v, name)
		t, err := time.Parse("15:04", s)
		switch {
		case s == "":
			unreadable(name, "Enter the "+label+" time, like 14:30")
			return 0, false
		case err != nil:
			unreadable(name, "The "+label+" time must be a 24-hour time, like 14:30")
			return 0, false
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
	}
	start, startOK := clock("start", "start")
	end, endOK := clock("end", "end")
	if !day.IsZero() {
		// The day alone when a time is missing, so that the date is still checked.
		e.Start = at(day, start)
		if startOK && endOK {
			e.End = at(day, end)
		}
	}
	switch c := text(v, "capacity"); {
	case c == "":
		unreadable("capacity", "Enter how many people can come")
	default:
		n, err := strconv.Atoi(c)
		if err != nil {
			unreadable("capacity", "Capacity must be a whole number from 1 to 10000")
		}
		e.Capacity = n
	}
	checked := pg.ValidateEvent(e, r)
	if !startOK || !endOK {
		// Whether it ends after it starts cannot be told without both times.
		checked = slices.DeleteFunc(checked, func(fe pg.FieldError) bool { return fe.Field == "end" })
	}
	errs := inOrder(eventFields, unread, checked)
	if !startOK || !endOK || errs.For("date-day") != "" {
		e.Start, e.End = time.Time{}, time.Time{}
	}
	if errs.For("capacity") != "" {
		e.Capacity = 0
	}
	return e, errs
}

// at returns the time of day d (from midnight) on day, in London.
func at(day time.Time, d time.Duration) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, pg.London)
}
