package icaljs

import (
	"strings"
	"testing"
	"time"
)

const calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
	"BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST\r\nDTSTART:19810329T010000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\nDTSTART:19961027T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\n" +
	"BEGIN:VEVENT\r\nUID:x@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/London:20270714T140000\r\nDTEND;TZID=Europe/London:20270714T160000\r\nSUMMARY:Test\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

// The checker can fail: a UTC offset written as text (what go-ical's SetText makes)
// gives ical.js no valid start, and it says so.
func TestAUTCOffsetWrittenAsTextIsRefused(t *testing.T) {
	asText := strings.NewReplacer("TZOFFSETFROM:", "TZOFFSETFROM;VALUE=TEXT:", "TZOFFSETTO:", "TZOFFSETTO;VALUE=TEXT:").Replace(calendar)
	if _, err := Parse([]byte(asText)); err == nil || !strings.Contains(err.Error(), "invalid start") {
		t.Fatalf("ical.js accepted UTC offsets written as text: %v", err)
	}
	ev, err := Parse([]byte(calendar))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 7, 14, 13, 0, 0, 0, time.UTC); !ev.Start.Equal(want) || ev.Zone != "Europe/London" || ev.Summary != "Test" {
		t.Fatalf("ical.js reads %+v, want a start at %v", ev, want)
	}
}
