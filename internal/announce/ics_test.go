package announce

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/peergroups/peergroups/internal/icaljs"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestTheCalendarParsesBackWithLondonTimes(t *testing.T) {
	start := time.Date(2026, 7, 14, 14, 0, 0, 0, pg.London) // BST
	r := pg.Round{Number: 3, Title: "Assessments, and; you", Summary: "Line one\nLine two"}
	e := pg.Event{Start: start, End: start.Add(150 * time.Minute), Venue: "Town Hall", Address: "1 High St\nLeeds", Note: "Bring a laptop", OnlineURL: "https://meet.example/x"}
	data, err := MemberCalendar("https://peergroups.example.org", "peergroups.example.org", r, pg.Group{ID: "yorkshire", Name: "Yorkshire"}, e, time.Now())
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

// Every calendar file we produce, public and member, in winter (GMT) and in summer
// (BST), is read by Mozilla's ical.js as the same instant we meant: 14:00 London time
// is 14:00Z in January and 13:00Z in July.
func TestICalJSReadsEveryCalendarAtTheRightInstant(t *testing.T) {
	r := pg.Round{Number: 5, Title: "Service assessments", Summary: "How to pass one."}
	g := pg.Group{ID: "london", Name: "London"}
	private := []string{"10 Downing Street", "https://meet.example/secret-room", "Ring the bell twice"}
	for _, season := range []struct {
		name      string
		start     time.Time
		wantStart time.Time
	}{
		{"winter", time.Date(2027, 1, 14, 14, 0, 0, 0, pg.London), time.Date(2027, 1, 14, 14, 0, 0, 0, time.UTC)},
		{"summer", time.Date(2027, 7, 14, 14, 0, 0, 0, pg.London), time.Date(2027, 7, 14, 13, 0, 0, 0, time.UTC)},
	} {
		e := pg.Event{Start: season.start, End: season.start.Add(2 * time.Hour), Venue: "Guildhall", Address: private[0], OnlineURL: private[1], Note: private[2]}
		for _, full := range []bool{false, true} {
			produce := PublicCalendar
			if full {
				produce = MemberCalendar
			}
			data, err := produce("https://peergroups.example.org", "peergroups.example.org", r, g, e, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ev, err := icaljs.Parse(data)
			if err != nil {
				t.Fatalf("%s, full %v: %v\n%s", season.name, full, err, data)
			}
			if !ev.Start.Equal(season.wantStart) || !ev.End.Equal(season.wantStart.Add(2*time.Hour)) || ev.Zone != "Europe/London" {
				t.Errorf("%s, full %v: ical.js reads %v to %v in %q, want %v to %v in Europe/London", season.name, full, ev.Start, ev.End, ev.Zone, season.wantStart, season.wantStart.Add(2*time.Hour))
			}
			if ev.UID != "round-5-london@peergroups.example.org" || ev.Summary != "London peer group: round 5, Service assessments" || ev.URL != "https://peergroups.example.org/rounds/5" {
				t.Errorf("%s, full %v: %+v", season.name, full, ev)
			}
			for _, secret := range private {
				if shown := strings.Contains(ev.Location+ev.Description, secret); shown != full {
					t.Errorf("%s, full %v: %q in the file is %v\n%+v", season.name, full, secret, shown, ev)
				}
				if unfolded := bytes.ReplaceAll(data, []byte("\r\n "), nil); !full && bytes.Contains(unfolded, []byte(secret)) {
					t.Errorf("the public file carries %q:\n%s", secret, data)
				}
			}
			if !full && ev.Location != "Guildhall and online" {
				t.Errorf("public location %q, want what the round page says", ev.Location)
			}
		}
	}
}
