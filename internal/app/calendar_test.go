package app_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/icaljs"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

var memberCalendarHref = regexp.MustCompile(`href="(/calendar\.ics\?token=[^"]+)"`)

// The public calendar file of an event carries only what the public round page shows;
// a member gets the address, the online link and the facilitator's note through their
// own link, in their announcement and on their RSVP page, until after the event. Every
// file, in winter and in summer, reads at the right instant in Mozilla's ical.js.
func TestThePublicCalendarKeepsTheDetailsForMembersThroughTheirOwnLink(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "SES_MAX_SEND_RATE": "100"})
	ctx := context.Background()
	caller := pg.Caller{Email: admin, Admin: true}
	period := time.Date(2027, 1, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, caller, pg.Round{Number: 2, Title: "Service assessments", Summary: "How to pass one.", PeriodStart: period, PeriodEnd: period.AddDate(0, 7, 0), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	private := map[string][]string{}
	cases := []struct {
		group     string
		start     time.Time
		wantStart time.Time // 14:00 London: GMT in January, BST in July
	}{
		{"london", time.Date(2027, 1, 14, 14, 0, 0, 0, pg.London), time.Date(2027, 1, 14, 14, 0, 0, 0, time.UTC)},
		{"midlands", time.Date(2027, 7, 14, 14, 0, 0, 0, pg.London), time.Date(2027, 7, 14, 13, 0, 0, 0, time.UTC)},
	}
	members := map[string]string{}
	for _, c := range cases {
		private[c.group] = []string{"7 Secret Street " + c.group, "https://meet.example/" + c.group + "-room-42", "Knock twice at the " + c.group + " side door"}
		e := pg.Event{Round: 2, GroupID: c.group, Start: c.start, End: c.start.Add(2 * time.Hour), Venue: "Guildhall", Address: private[c.group][0], OnlineURL: private[c.group][1], Note: private[c.group][2], Capacity: 20}
		if err := s.App.Services.Rounds.SetEvent(ctx, caller, e); err != nil {
			t.Fatal(err)
		}
		members[c.group] = s.addMember(t, c.group, "Ada")
	}
	if err := s.App.Services.Rounds.Publish(ctx, caller, 2); err != nil {
		t.Fatal(err)
	}
	announcer, err := announcing.New(s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := announcer.Run(ctx, 2); err != nil {
		t.Fatal(err)
	}

	read := func(what, path string) (icaljs.Event, string) {
		t.Helper()
		r := s.get(path)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("%s: %d %s\n%s", what, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		ev, err := icaljs.Parse([]byte(r.Body))
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, r.Body)
		}
		return ev, strings.ReplaceAll(r.Body, "\r\n ", "") // unfolded
	}
	roundPage := s.get("/rounds/2").Body
	for _, c := range cases {
		for _, secret := range private[c.group] {
			if strings.Contains(roundPage, secret) {
				t.Fatalf("the public round page shows %q", secret)
			}
		}
		check := func(what string, ev icaljs.Event, body string, full bool) {
			t.Helper()
			if !ev.Start.Equal(c.wantStart) || !ev.End.Equal(c.wantStart.Add(2*time.Hour)) {
				t.Errorf("%s: ical.js reads %v to %v, want %v to %v", what, ev.Start, ev.End, c.wantStart, c.wantStart.Add(2*time.Hour))
			}
			for _, secret := range private[c.group] {
				if strings.Contains(body, secret) != full {
					t.Errorf("%s: %q in the file: %v, want %v\n%s", what, secret, !full, full, body)
				}
			}
		}
		public, body := read("public "+c.group, "/rounds/2/events/"+c.group+".ics")
		check("public "+c.group, public, body, false)
		if public.Location != "Guildhall and online" {
			t.Errorf("public %s location %q, want what the round page says", c.group, public.Location)
		}

		// The announcement carries the member's own link to the full details.
		mail := testenv.LastMail(t, members[c.group])
		link := testenv.Link(t, mail.Body.Text, "/calendar.ics")
		if !strings.Contains(mail.Body.HTML, html.EscapeString(link)) {
			t.Errorf("the HTML part has no calendar link %q", link)
		}
		member, body := read("announcement's link "+c.group, link)
		check("announcement's link "+c.group, member, body, true)

		// So does the RSVP page, before and after answering.
		var rsvp string
		for _, f := range strings.Fields(mail.Body.Text) {
			if strings.Contains(f, "/rsvp?answer=going&token=") {
				rsvp = f
			}
		}
		page := s.get(rsvp)
		found := memberCalendarHref.FindStringSubmatch(page.Body)
		if found == nil {
			t.Fatalf("no calendar link on the RSVP page:\n%s", page.Body)
		}
		fromPage, body := read("RSVP page's link "+c.group, html.UnescapeString(found[1]))
		check("RSVP page's link "+c.group, fromPage, body, true)
		answered := s.post("/rsvp", url.Values{"token": {tokenOf(t, rsvp)}, "answer": {pg.Going}})
		if !memberCalendarHref.MatchString(answered.Body) {
			t.Errorf("no calendar link after answering:\n%s", answered.Body)
		}

		// Another link's token does not open it, nor does a changed one.
		if r := s.get("/calendar.ics?token=" + url.QueryEscape(tokenOf(t, rsvp))); r.Status != 404 || strings.Contains(r.Body, private[c.group][0]) {
			t.Errorf("an RSVP token as a calendar link: %d", r.Status)
		}
		if r := s.get(link + "x"); r.Status != 404 {
			t.Errorf("a changed calendar link: %d", r.Status)
		}
	}

	// The links stop working a week after their event.
	london := testenv.Link(t, testenv.LastMail(t, members["london"]).Body.Text, "/calendar.ics")
	s.Clock.Set(cases[0].start.Add(2*time.Hour + pg.CalendarLinkGrace - time.Minute))
	if r := s.get(london); r.Status != 200 {
		t.Fatalf("the calendar link just before it expires: %d", r.Status)
	}
	s.Clock.Set(cases[0].start.Add(2*time.Hour + pg.CalendarLinkGrace + time.Minute))
	if r := s.get(london); r.Status != 410 || strings.Contains(r.Body, private["london"][0]) {
		t.Fatalf("the calendar link after it expires: %d", r.Status)
	}
}
