package app_test

import (
	"context"
	htmltemplate "html/template"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// Text that admins, facilitators and members type is never read as a template by the
// mail service: whatever Handlebars it holds, every email shows it exactly as typed
// (escaped for HTML in the HTML part), and the admin's preview is exactly what the
// SES stand-in sent.
func TestTypedTextReachesEveryEmailAsTypedAndThePreviewIsWhatIsSent(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "SES_MAX_SEND_RATE": "400"})
	ctx := context.Background()
	caller := pg.Caller{Email: admin, Admin: true}
	typed := map[string]string{
		"title":   `}{{{x}}} {{#each a}}{{/each}} \{{x}} <b>T</b> {`,
		"summary": "Line 1 {{> partial}}\n\\\\{{y}} 'q' \"d\" & \\",
		"group":   `Nasty {{name}} \ {{ group\`,
		"venue":   `{{{{raw}}}} Hall {`,
		"address": "1 {{lookup . 'x'}} Street\n{{!-- c --}} Town\\",
		"note":    `Bring {{this}} and }} {{else}} \\\{{z}} {{`,
		"online":  `https://meet.example/{{room}}?a=1&b={{2}}\`,
		"name":    `Ada {{{going}}} <i>L</i> \{{name}} {`,
	}
	if err := s.App.Services.Network.CreateGroup(ctx, caller, pg.Group{ID: "nasty", Name: typed["group"], Regions: []string{"London"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, caller, pg.Round{Number: 1, Title: typed["title"], Summary: typed["summary"], PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	day := start.AddDate(0, 0, 7)
	event := pg.Event{Round: 1, GroupID: "nasty", Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: typed["venue"], Address: typed["address"], OnlineURL: typed["online"], Capacity: 30, Note: typed["note"]}
	if err := s.App.Services.Rounds.SetEvent(ctx, caller, event); err != nil {
		t.Fatal(err)
	}
	facilitator := testenv.Address("fac")
	if err := s.App.Stores.Network.SetRole(ctx, facilitator, pg.RoleFacilitator, "nasty", true, pg.AuditEntry{At: time.Now(), Actor: admin, Action: "test"}); err != nil {
		t.Fatal(err)
	}
	member := s.addMember(t, "nasty", typed["name"])
	if err := s.App.Services.Rounds.Publish(ctx, caller, 1); err != nil {
		t.Fatal(err)
	}
	a, err := announcing.New(s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx, 1); err != nil {
		t.Fatal(err)
	}

	announcement := onlyMail(t, member, "Round 1:")
	if want := "Round 1: " + typed["title"] + " – the " + typed["group"] + " peer group on 8 December"; announcement.Subject != want {
		t.Errorf("the announcement's subject is %q, want %q", announcement.Subject, want)
	}
	mustShow(t, "the announcement", announcement, typed, "title", "summary", "group", "venue", "address", "note", "online")
	mustContain(t, announcement.Body.Text, "Hello "+typed["name"]+",")
	mustContain(t, announcement.Body.HTML, "Hello "+htmltemplate.HTMLEscapeString(typed["name"])+",",
		// In the link's href, html/template percent-encodes the braces and the backslash.
		`href="https://meet.example/%7b%7broom%7d%7d?a=1&amp;b=%7b%7b2%7d%7d%5c"`)
	brief := onlyMail(t, facilitator, "Round 1 is published")
	if want := "Round 1 is published: your brief for " + typed["group"]; brief.Subject != want {
		t.Errorf("the brief's subject is %q, want %q", brief.Subject, want)
	}
	mustShow(t, "the brief", brief, typed, "title", "summary", "group", "venue", "address", "online")

	// The admin's preview, as if they were the member and the facilitator, is what
	// the SES stand-in made of the templates: only the links' tokens differ.
	_, previewed, err := a.Preview(ctx, 1, "nasty", member, typed["name"])
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "announcement", previewed, announcement)
	previewed, _, err = a.Preview(ctx, 1, "nasty", facilitator, "")
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "brief", previewed, brief)

	// The reminder is filled by the same code as the preview and sent as it is.
	if _, err := s.App.Stores.RSVPs.Attend(ctx, pg.Attendance{Round: 1, Group: "nasty", Email: member, Name: typed["name"], Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reminders, err := announcing.NewReminders(s.Config, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	s.Clock.Set(event.Start.Add(-24 * time.Hour))
	if tally, err := reminders.Run(ctx); err != nil || tally.Sent != 1 {
		t.Fatalf("reminders: %+v %v", tally, err)
	}
	reminder := onlyMail(t, member, "Reminder:")
	if want := "Reminder: the " + typed["group"] + " peer group meets on Tuesday 8 December"; reminder.Subject != want {
		t.Errorf("the reminder's subject is %q, want %q", reminder.Subject, want)
	}
	mustShow(t, "the reminder", reminder, typed, "title", "group", "venue", "address", "online")
	mustContain(t, reminder.Body.Text, "Hello "+typed["name"]+",")
}

// onlyMail returns the one email to an address whose subject starts with prefix.
func onlyMail(t *testing.T, to, prefix string) testenv.Email {
	t.Helper()
	var found []testenv.Email
	for _, m := range testenv.Mail(t, to) {
		if strings.HasPrefix(m.Subject, prefix) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d emails %q… to %s, want 1", len(found), prefix, to)
	}
	return found[0]
}

// mustShow checks that an email shows each typed field as typed in its text part, and
// as text (escaped) in its HTML part, and that nothing of the escaping shows.
func mustShow(t *testing.T, what string, m testenv.Email, typed map[string]string, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if !strings.Contains(m.Body.Text, typed[f]) {
			t.Errorf("%s's text does not show the %s as typed, %q:\n%s", what, f, typed[f], m.Body.Text)
		}
		if !strings.Contains(m.Body.HTML, htmltemplate.HTMLEscapeString(typed[f])) {
			t.Errorf("%s's HTML does not show the %s as typed, %q:\n%s", what, f, typed[f], m.Body.HTML)
		}
	}
	for _, part := range []string{m.Subject, m.Body.Text, m.Body.HTML} {
		if strings.Contains(part, "{{~!}}") || strings.Contains(part, "{ {") || strings.Contains(part, "} }") {
			t.Errorf("%s shows the escaping:\n%s", what, part)
		}
	}
	for _, tag := range []string{"<b>T</b>", "<i>L</i>"} {
		if strings.Contains(m.Body.HTML, tag) {
			t.Errorf("%s's HTML carries typed markup %s", what, tag)
		}
	}
}

var linkToken = regexp.MustCompile(`token=[^"&\s<]+`)

// samePreview checks that a previewed email is the one the SES stand-in sent, but for
// the links' tokens, which are sealed afresh each time.
func samePreview(t *testing.T, what string, previewed *pg.Message, sent testenv.Email) {
	t.Helper()
	if previewed == nil {
		t.Fatalf("no %s was previewed", what)
	}
	same := func(part, got, want string) {
		got, want = linkToken.ReplaceAllString(got, "token=T"), linkToken.ReplaceAllString(want, "token=T")
		if got != want {
			t.Errorf("the preview of the %s's %s differs from what was sent:\npreview:\n%s\nsent:\n%s", what, part, got, want)
		}
	}
	same("subject", previewed.Subject, sent.Subject)
	same("text", previewed.Text, sent.Body.Text)
	same("HTML", previewed.HTML, sent.Body.HTML)
}
