package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The decoders turn posted forms into the domain's values: they read each field (a
// field sent twice is read once), say what could not be read at all (a date that is no
// date, a number that is no number), and leave the rules to the domain's Validate
// functions, which the services apply again to whatever they are given.

// text returns a field's value with surrounding spaces removed. A field sent twice is
// read once: the first value counts.
func text(v url.Values, name string) string {
	vals := v[name]
	if len(vals) == 0 {
		return ""
	}
	return strings.TrimSpace(vals[0])
}

// paragraph returns a field of several lines, with browsers' CRLF line ends as "\n".
func paragraph(v url.Values, name string) string {
	return strings.ReplaceAll(text(v, name), "\r\n", "\n")
}

// inOrder returns a form's problems in the order of its fields: for each field, what
// could not be read (unread) or else what the domain's rules found (checked).
func inOrder(fields []string, unread, checked pg.FieldErrors) pg.FieldErrors {
	var out pg.FieldErrors
	for _, f := range fields {
		from := checked
		if unread.For(f) != "" {
			from = unread
		}
		for _, e := range from {
			if e.Field == f {
				out = append(out, e)
			}
		}
	}
	for _, e := range slices.Concat(unread, checked) {
		if !slices.Contains(fields, e.Field) {
			out = append(out, e)
		}
	}
	return out
}

// decodeEmail reads a lone email address field.
func decodeEmail(v url.Values) (string, pg.FieldErrors) {
	email := text(v, "email")
	return email, pg.ValidateEmail(email)
}

// decodeReason reads a required reason (withdrawing a council, declining a proposal).
func decodeReason(v url.Values) (string, pg.FieldErrors) {
	reason := paragraph(v, "reason")
	return reason, pg.ValidateReason(reason)
}

// dateField reads a GOV.UK date input (name-day, name-month, name-year) as a day in
// London. It returns the zero time and "" when all three are empty, and the zero time
// and what was typed when they are not a real date.
func dateField(v url.Values, name string) (time.Time, string) {
	d, m, y := text(v, name+"-day"), text(v, name+"-month"), text(v, name+"-year")
	if d == "" && m == "" && y == "" {
		return time.Time{}, ""
	}
	typed := d + "/" + m + "/" + y
	di, e1 := strconv.Atoi(d)
	mi, e2 := strconv.Atoi(m)
	yi, e3 := strconv.Atoi(y)
	if e1 != nil || e2 != nil || e3 != nil || mi < 1 || mi > 12 || di < 1 || di > 31 || yi < 2000 || yi > 2100 {
		return time.Time{}, typed
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, pg.London)
	if t.Day() != di {
		return time.Time{}, typed
	}
	return t, ""
}
