package peergroups

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func parseDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), London)
	return t, err == nil
}

// dateField reads a GOV.UK date input (name-day, name-month, name-year).
func dateField(v url.Values, name string) (time.Time, string, bool) {
	d, _ := text(v, name+"-day")
	m, _ := text(v, name+"-month")
	y, _ := text(v, name+"-year")
	if d == "" && m == "" && y == "" {
		return time.Time{}, "", false
	}
	di, e1 := strconv.Atoi(d)
	mi, e2 := strconv.Atoi(m)
	yi, e3 := strconv.Atoi(y)
	if e1 != nil || e2 != nil || e3 != nil || mi < 1 || mi > 12 || di < 1 || di > 31 || yi < 2000 || yi > 2100 {
		return time.Time{}, d + "/" + m + "/" + y, false
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, London)
	if t.Day() != di {
		return time.Time{}, d + "/" + m + "/" + y, false
	}
	return t, "", true
}

// DecodeRound reads the new round form.
func DecodeRound(v url.Values) (Round, FieldErrors) {
	var r Round
	var errs FieldErrors
	n, _ := text(v, "number")
	num, err := strconv.Atoi(n)
	switch {
	case n == "":
		errs.add("number", "Enter the round’s number")
	case err != nil || num < 1 || num > 9999:
		errs.add("number", "Round number must be a whole number from 1 to 9999")
	default:
		r.Number = num
	}
	r.Title = errs.line(v, "title", "Title", 120, "Enter the round’s title (its theme)")
	r.Summary = errs.paragraph(v, "summary", "Summary", 2000, "Enter a summary of the round")
	start, bad, ok := dateField(v, "start")
	switch {
	case ok:
		r.PeriodStart = start
	case bad != "":
		errs.add("start-day", "The start of the period must be a real date")
	default:
		errs.add("start-day", "Enter the first day groups can hold their event")
	}
	end, bad, ok := dateField(v, "end")
	switch {
	case ok && !r.PeriodStart.IsZero() && end.Before(r.PeriodStart):
		errs.add("end-day", "The end of the period must be the same as or after its start")
	case ok:
		r.PeriodEnd = end
	case bad != "":
		errs.add("end-day", "The end of the period must be a real date")
	default:
		errs.add("end-day", "Enter the last day groups can hold their event")
	}
	r.State = RoundDraft
	return r, errs
}

// DecodeEvent reads a group's event form for a round.
func DecodeEvent(v url.Values, r Round, group string) (Event, FieldErrors) {
	e := Event{Round: r.Number, GroupID: group}
	var errs FieldErrors
	day, bad, ok := dateField(v, "date")
	switch {
	case !ok && bad != "":
		errs.add("date-day", "The date must be a real date")
	case !ok:
		errs.add("date-day", "Enter the date of the event")
	case day.Before(r.PeriodStart) || day.After(r.PeriodEnd):
		errs.add("date-day", fmt.Sprintf("The date must be between %s and %s", r.PeriodStart.Format("2 January 2006"), r.PeriodEnd.Format("2 January 2006")))
	}
	clock := func(name, label string) (int, int, bool) {
		s, _ := text(v, name)
		t, err := time.Parse("15:04", s)
		if s == "" {
			errs.add(name, "Enter the "+label+" time, like 14:30")
			return 0, 0, false
		}
		if err != nil {
			errs.add(name, "The "+label+" time must be a 24-hour time, like 14:30")
			return 0, 0, false
		}
		return t.Hour(), t.Minute(), true
	}
	sh, sm, sok := clock("start", "start")
	eh, em, eok := clock("end", "end")
	if ok && sok && eok {
		e.Start = time.Date(day.Year(), day.Month(), day.Day(), sh, sm, 0, 0, London)
		e.End = time.Date(day.Year(), day.Month(), day.Day(), eh, em, 0, 0, London)
		if !e.End.After(e.Start) {
			errs.add("end", "The end time must be after the start time")
		}
	}
	e.Venue = errs.line(v, "venue", "Venue", 200, "")
	e.Address = errs.paragraph(v, "address", "Address", 500, "")
	e.OnlineURL, _ = text(v, "online")
	if e.OnlineURL != "" {
		u, err := url.Parse(e.OnlineURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(e.OnlineURL, " \r\n\"<>") || len(e.OnlineURL) > 500 {
			errs.add("online", "The online link must be a web address starting with https://")
		}
	}
	if e.Venue == "" && e.OnlineURL == "" && errs.For("online") == "" {
		errs.add("venue", "Enter a venue, an online link, or both")
	}
	c, _ := text(v, "capacity")
	n, err := strconv.Atoi(c)
	switch {
	case c == "":
		errs.add("capacity", "Enter how many people can come")
	case err != nil || n < 1 || n > 10000:
		errs.add("capacity", "Capacity must be a whole number from 1 to 10000")
	default:
		e.Capacity = n
	}
	e.Note = errs.paragraph(v, "note", "Note", 1000, "")
	return e, errs
}
