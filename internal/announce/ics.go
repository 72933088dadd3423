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

// PublicCalendar returns a group's event for a round as an RFC 5545 calendar that
// anyone may download: only what the public round page shows (the times, the venue's
// name, whether it is also online, the round's summary). It never carries the
// address, the online meeting link or the facilitator's note.
func PublicCalendar(base, domain string, r pg.Round, g pg.Group, e pg.Event, now time.Time) ([]byte, error) {
	return calendar(base, domain, r, g, e, false, now)
}

// MemberCalendar returns a group's event for a round with every detail a member
// needs: the full address, the online meeting link and the facilitator's note. It is
// served only through a member's own sealed link.
func MemberCalendar(base, domain string, r pg.Round, g pg.Group, e pg.Event, now time.Time) ([]byte, error) {
	return calendar(base, domain, r, g, e, true, now)
}

// calendar is one VEVENT with its times in Europe/London (and that zone's rules), the
// venue as its location, and the round's page as its URL. Both versions share the
// UID, so a member's full version replaces a public one already in their calendar.
func calendar(base, domain string, r pg.Round, g pg.Group, e pg.Event, full bool, now time.Time) ([]byte, error) {
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
	if full {
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
	} else {
		// As the public round page says it: the venue, and "online" when it is.
		location := strings.TrimSpace(e.Venue)
		switch {
		case e.OnlineURL != "" && location != "":
			location += " and online"
		case e.OnlineURL != "":
			location = "Online"
		}
		ev.Props.SetText(ical.PropLocation, location)
		ev.Props.SetText(ical.PropDescription, r.Summary+"\n\nMembers of the group get the full details (the address and any online link) in their announcement email.")
	}
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
		c.Props.Set(utcOffset(ical.PropTimezoneOffsetFrom, from))
		c.Props.Set(utcOffset(ical.PropTimezoneOffsetTo, to))
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

// utcOffset is a UTC-OFFSET property (TZOFFSETFROM, TZOFFSETTO). Its value type is
// the default one, so no VALUE parameter is written: SetText would write VALUE=TEXT,
// which strict parsers (Mozilla's ical.js) read as no offset at all, and then every
// time in the zone is invalid.
func utcOffset(name, offset string) *ical.Prop {
	p := ical.NewProp(name)
	p.SetValueType(ical.ValueUTCOffset)
	p.Value = offset
	return p
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}
