package announce

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Calendar returns a group's event for a round as an RFC 5545 calendar: one VEVENT
// with its times in Europe/London (and that zone's rules), the venue or link as its
// location, and the round's page as its URL.
func Calendar(base, domain string, r pg.Round, g pg.Group, e pg.Event, now time.Time) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Peer Groups//Rounds//EN")
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	cal.Children = append(cal.Children, londonZone())

	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, fmt.Sprintf("round-%d-%s@%s", r.Number, g.ID, domain))
	ev.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC())
	ev.Props.Set(londonTime(ical.PropDateTimeStart, e.Start))
	ev.Props.Set(londonTime(ical.PropDateTimeEnd, e.End))
	ev.Props.SetText(ical.PropSummary, fmt.Sprintf("%s peer group: round %d, %s", g.Name, r.Number, r.Title))
	location := strings.TrimSpace(strings.Join(nonEmpty(e.Venue, strings.ReplaceAll(e.Address, "\n", ", ")), ", "))
	if location == "" {
		location = e.OnlineURL
	}
	ev.Props.SetText(ical.PropLocation, location)
	desc := r.Summary
	if e.OnlineURL != "" {
		desc += "\n\nOnline: " + e.OnlineURL
	}
	if e.Note != "" {
		desc += "\n\n" + e.Note
	}
	ev.Props.SetText(ical.PropDescription, desc)
	ev.Props.SetURI(ical.PropURL, mustURL(fmt.Sprintf("%s/rounds/%d", base, r.Number)))
	cal.Children = append(cal.Children, ev.Component)

	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode calendar: %w", err)
	}
	return fold(buf.Bytes()), nil
}

// fold breaks lines longer than 75 octets, as RFC 5545 (3.1) asks: CRLF and a space,
// never inside a UTF-8 character. The encoder does not.
func fold(data []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(data), "\r\n") {
		body, crlf := strings.CutSuffix(line, "\r\n")
		limit := 75 // the first line; continuation lines start with a space
		for len(body) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(body[cut]) {
				cut--
			}
			out.WriteString(body[:cut] + "\r\n ")
			body, limit = body[cut:], 74
		}
		out.WriteString(body)
		if crlf {
			out.WriteString("\r\n")
		}
	}
	return out.Bytes()
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// londonTime is a DATE-TIME property in local time with TZID=Europe/London.
func londonTime(name string, t time.Time) *ical.Prop {
	p := ical.NewProp(name)
	p.Value = t.In(pg.London).Format("20060102T150405")
	p.Params.Set(ical.ParamTimezoneID, "Europe/London")
	return p
}

// londonZone is the VTIMEZONE for Europe/London: GMT in winter, BST (+01:00) from the
// last Sunday of March to the last Sunday of October.
func londonZone() *ical.Component {
	zone := ical.NewComponent(ical.CompTimezone)
	zone.Props.SetText(ical.PropTimezoneID, "Europe/London")
	rule := func(comp, from, to, name, start, rrule string) *ical.Component {
		c := ical.NewComponent(comp)
		c.Props.SetText(ical.PropTimezoneOffsetFrom, from)
		c.Props.SetText(ical.PropTimezoneOffsetTo, to)
		c.Props.SetText(ical.PropTimezoneName, name)
		dt := ical.NewProp(ical.PropDateTimeStart)
		dt.Value = start
		c.Props.Set(dt)
		rr := ical.NewProp(ical.PropRecurrenceRule)
		rr.Value = rrule
		c.Props.Set(rr)
		return c
	}
	zone.Children = append(zone.Children,
		rule(ical.CompTimezoneDaylight, "+0000", "+0100", "BST", "19810329T010000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"),
		rule(ical.CompTimezoneStandard, "+0100", "+0000", "GMT", "19961027T020000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"),
	)
	return zone
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}
