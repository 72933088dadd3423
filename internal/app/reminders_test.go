package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

func TestRemindersGoOnceToEveryoneGoingTwoDaysBefore(t *testing.T) {
	t.Parallel()
	f := newRound(t, 3)
	ctx := context.Background()
	going, waiting := f.members["london"][1], f.members["london"][2]
	event := pg.Attendance{Round: 1, Group: "london", Email: going, Name: "Going", Since: time.Now()}
	if _, err := f.s.App.Stores.RSVPs.Attend(ctx, event); err != nil {
		t.Fatal(err)
	}
	if err := f.s.App.Stores.RSVPs.Withdraw(ctx, pg.Attendance{Round: 1, Group: "london", Email: waiting, Name: "No", Since: time.Now()}, false); err != nil {
		t.Fatal(err)
	}
	reminders, err := announcing.NewReminders(f.s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	// The London event is on 8 December 2026 at 14:00: three days before, nothing is due.
	f.s.Clock.Set(time.Date(2026, 12, 5, 14, 0, 0, 0, pg.London))
	if tally, err := reminders.Run(ctx); err != nil || tally.Sent != 0 {
		t.Fatalf("three days before: %+v %v", tally, err)
	}
	f.s.Clock.Set(time.Date(2026, 12, 6, 15, 0, 0, 0, pg.London))
	for i := range 3 {
		tally, err := reminders.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[i == 0]; tally.Sent != want {
			t.Fatalf("run %d sent %d, want %d", i+1, tally.Sent, want)
		}
	}
	n := 0
	for _, m := range testenv.Mail(t, going) {
		if strings.HasPrefix(m.Subject, "Reminder:") {
			n++
			if !strings.Contains(m.Body.Text, "london Town Hall") || !strings.Contains(m.Body.Text, "/rsvp?answer=not-going") {
				t.Errorf("reminder:\n%s", m.Body.Text)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d reminders to the person going, want 1", n)
	}
	audited := 0
	for _, e := range auditTrail(t, f.s, f.admin.Email) {
		if e.Actor == pg.MailOutActor && e.Action == "send reminder" && e.Target == pg.MailOutTarget(f.s.App.Services.Memberships.Pseudonym, going) {
			audited++
		}
	}
	if audited != 1 {
		t.Errorf("the reminder is in the audit trail %d times, want once", audited)
	}
	for _, m := range testenv.Mail(t, waiting) {
		if strings.HasPrefix(m.Subject, "Reminder:") {
			t.Fatal("a person not going got a reminder")
		}
	}
}

// Reminders go only to people still in the group and not on the suppression list, and
// SES throttling them is waited out, not recorded as a failure.
func TestRemindersSkipThoseWhoLeftOrAreSuppressedAndWaitOutThrottling(t *testing.T) {
	t.Parallel()
	f := newRound(t, 4)
	ctx := context.Background()
	stays, leaves, bounced := f.members["london"][1], f.members["london"][2], f.members["london"][3]
	for _, who := range []string{stays, leaves, bounced} {
		if _, err := f.s.App.Stores.RSVPs.Attend(ctx, pg.Attendance{Round: 1, Group: "london", Email: who, Name: "Going", Since: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	person := f.s.person(leaves)
	if err := f.s.App.Stores.Memberships.SetGroups(ctx, person, nil, []string{"london"}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.s.App.Stores.Announcements.Suppress(ctx, bounced, "hard bounce", time.Now()); err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewFaultySES(t)
	clients := mailing.NewClients(testenv.AWSConfig(t))
	clients.SES = sesv2.NewFromConfig(testenv.AWSConfig(t), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(proxy.URL) })
	reminders, err := announcing.NewReminders(f.s.Config, clients, testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	reminders.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	proxy.Throttle(8) // more than the SDK's own retries
	f.s.Clock.Set(time.Date(2026, 12, 6, 15, 0, 0, 0, pg.London))
	tally, err := reminders.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Sent != 1 || tally.Failed != 0 || tally.Left != 1 || tally.Suppressed != 1 {
		t.Fatalf("tally %+v, want 1 sent, 1 who left, 1 suppressed, none failed", tally)
	}
	count := func(addr string) int {
		n := 0
		for _, m := range testenv.Mail(t, addr) {
			if strings.HasPrefix(m.Subject, "Reminder:") {
				n++
			}
		}
		return n
	}
	if count(stays) != 1 || count(leaves) != 0 || count(bounced) != 0 {
		t.Fatalf("reminders: %d to the member, %d to the one who left, %d to the suppressed; want 1, 0, 0", count(stays), count(leaves), count(bounced))
	}
}
