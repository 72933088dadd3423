package announce

import (
	"crypto/rand"
	htmltemplate "html/template"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Every email template, filled as the mail service fills it, shows typed text as
// typed (and escaped in HTML), whatever Handlebars it holds; and uses only {{{x}}}
// placeholders with values we escaped for HTML (Render refuses anything else).
// internal/app's TestTypedTextReachesEveryEmailAsTypedAndThePreviewIsWhatIsSent checks
// the same through the SES stand-in.
func TestEveryEmailShowsTypedTextAsTyped(t *testing.T) {
	keys, err := links.NewKeyring(make([]byte, 32), nil, time.Time{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	a := &Announcer{BaseURL: "https://peergroups.example.org", Links: links.NewSealer(keys, rand.Reader), Now: time.Now}
	nasty := func(field string) string {
		return "}" + field + ` {{{x}}} {{#if a}}{{else}}{{/if}} \{{x}} \\{{y}} <b>&</b> {`
	}
	r := pg.Round{Number: 2, Title: nasty("title"), Summary: nasty("summary") + "\\"}
	g := pg.Group{ID: "london", Name: nasty("group")}
	start := time.Date(2026, 12, 8, 14, 0, 0, 0, pg.London)
	e := pg.Event{Round: 2, GroupID: "london", Start: start, End: start.Add(2 * time.Hour), Venue: nasty("venue"), Address: nasty("address"), Note: nasty("note"), OnlineURL: "https://meet.example/" + nasty("online"), Capacity: 5}
	name := nasty("name")
	typed := []string{r.Title, r.Summary, g.Name, e.Venue, e.Address, e.Note, e.OnlineURL}

	kit := "https://peergroups.example/kits/2/groups/london"
	brief, err := a.briefTemplate(r, g, e, true, 3, kit)
	if err != nil {
		t.Fatal(err)
	}
	noEvent, err := a.briefTemplate(r, g, pg.Event{}, false, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	announcement, err := a.announceTemplate(r, g, e, kit)
	if err != nil {
		t.Fatal(err)
	}
	reminder, err := a.reminderTemplate(r, g, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what  string
		t     pg.BulkTemplate
		kind  pg.LedgerKind
		shows []string
	}{
		{"brief", brief, pg.LedgerBrief, []string{r.Title, r.Summary, g.Name, e.Venue, e.Address, e.OnlineURL, kit}},
		{"brief without an event", noEvent, pg.LedgerBrief, typed[:3]},
		{"announcement", announcement, pg.LedgerAnnouncement, append(typed, kit)},
		{"reminder", reminder, pg.LedgerAnnouncement, []string{r.Title, g.Name, e.Venue, e.Address, e.OnlineURL}},
	} {
		d, err := a.destination(2, batch{kind: tc.kind, group: g}, recipient{email: "ada@example.org", name: name})
		if err != nil {
			t.Fatal(err)
		}
		m, err := tc.t.Render(d)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if !strings.Contains(m.Subject, g.Name) {
			t.Errorf("%s: the subject %q does not show the group's name as typed", tc.what, m.Subject)
		}
		for _, s := range tc.shows {
			if !strings.Contains(m.Text, s) {
				t.Errorf("%s: the text does not show %q as typed:\n%s", tc.what, s, m.Text)
			}
			if !strings.Contains(m.HTML, htmltemplate.HTMLEscapeString(s)) {
				t.Errorf("%s: the HTML does not show %q as typed:\n%s", tc.what, s, m.HTML)
			}
		}
		if tc.kind == pg.LedgerAnnouncement && (!strings.Contains(m.Text, "Hello "+name+",") || !strings.Contains(m.HTML, "Hello "+htmltemplate.HTMLEscapeString(name)+",")) {
			t.Errorf("%s: the greeting does not show the name as typed", tc.what)
		}
		if strings.Contains(m.HTML, "<b>&</b>") {
			t.Errorf("%s: typed markup reached the HTML", tc.what)
		}
	}
}
