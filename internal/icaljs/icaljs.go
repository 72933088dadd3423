// Package icaljs reads calendar files with Mozilla's ical.js (npm ical.js, the parser
// of Thunderbird and of many web calendars), run by node, so that tests check the .ics
// files we produce against a parser that is not ours. `make deps` installs it.
package icaljs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// Event is what ical.js reads of a calendar's one event.
type Event struct {
	UID         string
	Summary     string
	Location    string
	Description string
	URL         string
	Zone        string    // the time zone of the start, as ical.js resolved it
	Start, End  time.Time // the instants ical.js computes
}

// script reads a calendar from standard input and prints its one event as JSON, with
// the start and end as milliseconds since the epoch. A time zone ical.js cannot read
// makes the instants invalid (NaN), which is an error here.
const script = `
import ICAL from 'ical.js';
import { readFileSync } from 'node:fs';
const cal = new ICAL.Component(ICAL.parse(readFileSync(0, 'utf8')));
const events = cal.getAllSubcomponents('vevent');
if (events.length !== 1) throw new Error(events.length + ' events, want 1');
const ev = new ICAL.Event(events[0]);
const ms = (t, what) => {
  const v = t.toJSDate().getTime();
  if (!Number.isFinite(v)) throw new Error('invalid ' + what + ': ' + t.toString());
  return v;
};
const text = name => events[0].getFirstPropertyValue(name) ?? '';
process.stdout.write(JSON.stringify({
  uid: ev.uid ?? '', summary: ev.summary ?? '', location: ev.location ?? '', description: ev.description ?? '',
  url: String(text('url')), zone: ev.startDate.zone ? ev.startDate.zone.tzid : '',
  start: ms(ev.startDate, 'start'), end: ms(ev.endDate, 'end'),
}));
`

// Parse reads an .ics file with ical.js.
func Parse(data []byte) (Event, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return Event{}, fmt.Errorf("ical.js needs node: %w", err)
	}
	cmd := exec.Command("node", "--input-type=module", "-e", script)
	cmd.Dir = moduleRoot() // where node_modules is
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if bytes.Contains(stderr.Bytes(), []byte("ERR_MODULE_NOT_FOUND")) {
			return Event{}, errors.New("ical.js is not installed: run `make deps`")
		}
		return Event{}, fmt.Errorf("ical.js: %w: %s", err, stderr.Bytes())
	}
	var out struct {
		UID, Summary, Location, Description, URL, Zone string
		Start, End                                     int64
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return Event{}, fmt.Errorf("ical.js output %q: %w", stdout.Bytes(), err)
	}
	return Event{UID: out.UID, Summary: out.Summary, Location: out.Location, Description: out.Description, URL: out.URL, Zone: out.Zone,
		Start: time.UnixMilli(out.Start).UTC(), End: time.UnixMilli(out.End).UTC()}, nil
}

// moduleRoot is the folder of go.mod, two up from this file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
