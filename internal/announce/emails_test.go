package announce

import (
	"crypto/rand"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Every email in emails/ (the list comes from the embedded files, so that a new one
// cannot be left out: each name.txt with its name.html, layout.html only defines
// parts) renders and fills as the mail service fills it, with a text and an HTML part,
// the manage link in both, and nothing left of Go's template actions.
// TestEveryEmailShowsTypedTextAsTyped checks each one's typed text.
func TestEveryEmailRenders(t *testing.T) {
	paths, err := fs.Glob(files, "emails/*")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range paths {
		name, ext := strings.TrimSuffix(path.Base(f), path.Ext(f)), path.Ext(f)
		if name == "layout" && ext == ".html" {
			continue
		}
		other := map[string]string{".txt": ".html", ".html": ".txt"}[ext]
		if other == "" {
			t.Errorf("%s is neither a text nor an HTML email", f)
			continue
		}
		if _, err := fs.Stat(files, "emails/"+name+other); err != nil {
			t.Errorf("%s has no %s part", f, other)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatal("no emails found")
	}

	keys, err := links.NewKeyring(make([]byte, 32), nil, time.Time{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	a := &Announcer{BaseURL: "https://peergroups.example.org", Links: links.NewSealer(keys, rand.Reader), Now: time.Now}
	r := pg.Round{Number: 2, Title: "Service standards", Summary: "What the standard asks."}
	g := pg.Group{ID: "london", Name: "London"}
	start := time.Date(2026, 12, 8, 14, 0, 0, 0, pg.London)
	e := pg.Event{Round: 2, GroupID: "london", Start: start, End: start.Add(2 * time.Hour), Venue: "Town Hall", Address: "1 High Street", Note: "Bring a laptop.", OnlineURL: "https://meet.example/x", Capacity: 5}
	// The announcement's recipient has every value a template may ask for (a brief's
	// has fewer: TestEveryEmailShowsTypedTextAsTyped fills the brief as it is sent).
	d, err := a.destination(2, batch{kind: pg.LedgerAnnouncement, group: g, event: e}, recipient{email: "ada@example.org", name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		tpl, err := a.render(name, "A subject", a.content(r, g, e, true, 3))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		m, err := tpl.Render(d)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.TrimSpace(m.Text) == "" || strings.TrimSpace(m.HTML) == "" {
			t.Errorf("%s: a part is empty", name)
		}
		if !strings.Contains(m.Text, d.Data["manage"]) || !strings.Contains(m.HTML, d.Data["manage_html"]) {
			t.Errorf("%s: no manage link in both parts", name)
		}
		if !strings.Contains(m.Text, g.Name) || !strings.Contains(m.HTML, g.Name) {
			t.Errorf("%s: the group is not named in both parts", name)
		}
		if strings.Contains(m.Text+m.HTML, "[[") || strings.Contains(m.Text+m.HTML, "<no value>") {
			t.Errorf("%s: a template action or value is left unfilled", name)
		}
		if !strings.Contains(m.HTML, `<html lang="en">`) || !strings.Contains(m.HTML, "<title>A subject</title>") {
			t.Errorf("%s: the HTML part has no language or title", name)
		}
	}
}
