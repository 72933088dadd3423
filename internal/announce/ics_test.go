package announce

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestTheCalendarParsesBackWithLondonTimes(t *testing.T) {
	start := time.Date(2026, 7, 14, 14, 0, 0, 0, pg.London) // BST
	r := pg.Round{Number: 3, Title: "Assessments, and; you", Summary: "Line one\nLine two"}
	e := pg.Event{Start: start, End: start.Add(150 * time.Minute), Venue: "Town Hall", Address: "1 High St\nLeeds", Note: "Bring a laptop", OnlineURL: "https://meet.example/x"}
	data, err := Calendar("https://peergroups.example.org", "peergroups.example.org", r, pg.Group{ID: "yorkshire", Name: "Yorkshire"}, e, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\r\n")) {
		t.Error("lines must end with CRLF")
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
	}
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	ev := events[0]
	uid, _ := ev.Props.Text(ical.PropUID)
	if uid != "round-3-yorkshire@peergroups.example.org" {
		t.Errorf("UID %q", uid)
	}
	dtstart := ev.Props.Get(ical.PropDateTimeStart)
	if dtstart.Value != "20260714T140000" || dtstart.Params.Get(ical.ParamTimezoneID) != "Europe/London" {
		t.Errorf("DTSTART %q %v", dtstart.Value, dtstart.Params)
	}
	got, err := ev.DateTimeStart(pg.London)
	if err != nil || !got.Equal(start) {
		t.Errorf("DTSTART parses as %v (%v), want %v", got, err, start)
	}
	end, err := ev.DateTimeEnd(pg.London)
	if err != nil || !end.Equal(e.End) {
		t.Errorf("DTEND parses as %v (%v), want %v", end, err, e.End)
	}
	summary, _ := ev.Props.Text(ical.PropSummary)
	location, _ := ev.Props.Text(ical.PropLocation)
	url, _ := ev.Props.URI(ical.PropURL)
	if summary != "Yorkshire peer group: round 3, Assessments, and; you" || location != "Town Hall, 1 High St, Leeds" || url.String() != "https://peergroups.example.org/rounds/3" {
		t.Errorf("summary %q, location %q, url %v", summary, location, url)
	}
	if len(cal.Children) < 2 || cal.Children[0].Name != ical.CompTimezone {
		t.Error("no VTIMEZONE for Europe/London")
	}
}
