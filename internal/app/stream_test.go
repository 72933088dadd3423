package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// followStream runs the announce function's handler on the site's table's stream, as
// Lambda does, until the test ends.
func (s *site) followStream(t *testing.T) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	awsCfg := testenv.AWSConfig(t)
	clients := mailing.NewClients(awsCfg)
	announcer, err := announcing.New(s.Config, clients, testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	handler := &dynamostream.Handler{Announcer: announcer, Log: testenv.Logger(t)}
	go devstack.FollowStream(ctx, clients.DynamoDB, dynamodbstreams.NewFromConfig(awsCfg), s.Config.TableName, handler.Handle, testenv.Logger(t))
}

// Publishing a round from the admin's page reaches the members through the table's
// stream and the announce function's handler, as in AWS, and a member says "I'm going".
func TestPublishingThroughTheStreamAndAnsweringTheInvitation(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "SES_MAX_SEND_RATE": "100", "STREAM": "on"})
	s.followStream(t)

	member := s.addMember(t, "london", "Ada")
	second := s.addMember(t, "london", "Grace")
	s.signIn(admin)
	if r := s.post("/admin/rounds", url.Values{"number": {"7"}, "title": {"Accessibility"}, "summary": {"Testing with people."},
		"start-day": {"1"}, "start-month": {"12"}, "start-year": {"2026"}, "end-day": {"31"}, "end-month": {"12"}, "end-year": {"2026"}}); r.Status != 303 {
		t.Fatalf("create round: %d\n%s", r.Status, r.Body)
	}
	if r := s.post("/facilitate/london/rounds/7", url.Values{"date-day": {"9"}, "date-month": {"12"}, "date-year": {"2026"}, "start": {"14:00"}, "end": {"16:30"},
		"venue": {"Guildhall"}, "capacity": {"1"}}); r.Status != 303 {
		t.Fatalf("set event: %d\n%s", r.Status, r.Body)
	}
	preview := s.get("/admin/rounds/7/preview/london")
	mustContain(t, preview.Body, "Round 7: Accessibility", "Guildhall", "List-Unsubscribe")
	if r := s.post("/admin/rounds/7/publish", url.Values{}); r.Status != 303 {
		t.Fatalf("publish: %d\n%s", r.Status, r.Body)
	}
	progress := s.get("/admin/rounds/7?auto=on")
	mustContain(t, progress.Body, `<progress id="progress"`)
	if pub := s.publication(7); !pub.Done && progress.Header.Get("Refresh") != "5" {
		t.Error("the sending round's page does not refresh itself when asked to")
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		pub, err := s.App.Stores.Rounds.Publication(context.Background(), 7)
		if err == nil && pub.Done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the announcements did not go within a minute: %+v %v", pub, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	done := s.get("/admin/rounds/7")
	mustContain(t, done.Body, "All sent: 2 of 2")
	if r := s.get("/admin/rounds/7?auto=on"); r.Header.Get("Refresh") != "" {
		t.Error("the finished round's page still refreshes itself")
	}

	// Capacity 1: the first to answer goes, the second waits, and is promoted when the
	// first drops out.
	answer := func(addr, ans string) string {
		m := testenv.LastMail(t, addr)
		var rsvp string
		for _, f := range strings.Fields(m.Body.Text) {
			if strings.Contains(f, "/rsvp?answer="+ans+"&token=") {
				rsvp = f
			}
		}
		if rsvp == "" {
			t.Fatalf("no %s link in:\n%s", ans, m.Body.Text)
		}
		u, _ := url.Parse(rsvp)
		if r := s.get(rsvp); r.Status != 200 {
			t.Fatalf("RSVP page: %d\n%s", r.Status, r.Body)
		}
		r := s.post("/rsvp", url.Values{"token": {u.Query().Get("token")}, "answer": {ans}})
		if r.Status != 200 {
			t.Fatalf("RSVP: %d\n%s", r.Status, r.Body)
		}
		return r.Body
	}
	mustContain(t, answer(member, pg.Going), "You are going")
	mustContain(t, answer(second, pg.Going), "You are on the waiting list")
	mustContain(t, answer(member, pg.NotGoing), "You are not going")
	promoted := testenv.LastMail(t, second)
	if !strings.HasPrefix(promoted.Subject, "A place is free for you") {
		t.Fatalf("the waiting member's last email is %q", promoted.Subject)
	}
	list := s.get("/facilitate/london/rounds/7")
	mustContain(t, list.Body, "Grace", "Going", "Not going")
	csv := s.get("/facilitate/london/rounds/7/attendees.csv")
	if !strings.Contains(csv.Body, second+",Grace,going") || !strings.Contains(csv.Body, member+",Ada,not-going") {
		t.Fatalf("attendees CSV:\n%s", csv.Body)
	}
	if r := s.post("/admin/rounds/7/close", url.Values{}); r.Status != 303 {
		t.Fatalf("close: %d", r.Status)
	}
	if r := s.post("/facilitate/london/rounds/7", url.Values{"date-day": {"9"}, "date-month": {"12"}, "date-year": {"2026"}, "start": {"15:00"}, "end": {"16:30"},
		"venue": {"Guildhall"}, "capacity": {"5"}}); r.Status != 409 {
		t.Fatalf("changing the event of a closed round: %d, want 409", r.Status)
	}
	ics := s.get("/rounds/7/events/london.ics")
	mustContain(t, ics.Body, "BEGIN:VCALENDAR", "DTSTART;TZID=Europe/London:20261209T140000", "LOCATION:Guildhall")
}
