package peergroups

import (
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// emailNames lists the emails in emails/, from the embedded files themselves (every
// name.txt with its name.html; the frame they share is email-frame.html), so that a new email
// cannot be left out of the tests.
func emailNames(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(emailFiles, "emails/*")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		name, ext := strings.TrimSuffix(path.Base(f), path.Ext(f)), path.Ext(f)
		if name == "layout" && ext == ".html" {
			continue
		}
		if ext != ".txt" && ext != ".html" {
			t.Errorf("%s is neither a text nor an HTML email", f)
			continue
		}
		other := map[string]string{".txt": ".html", ".html": ".txt"}[ext]
		if _, err := fs.Stat(emailFiles, "emails/"+name+other); err != nil {
			t.Errorf("%s has no %s part", f, other)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatal("no emails found")
	}
	return names
}

// Every email renders, with a text and an HTML part, the manage link in both, and
// what a person typed (their name, a proposal's area, a reason, a council, a round's
// title, a group's name) shown as typed in the text and escaped in the HTML.
func TestEveryEmailRenders(t *testing.T) {
	typed := func(what string) string { return "<b>" + what + "</b> & co" }
	round := Round{Number: 3, Title: typed("Round title")}
	data := emailData{
		Name:       typed("Ada"),
		Groups:     []Group{{ID: "london", Name: typed("London")}},
		Interest:   typed("North West"),
		Link:       "https://peergroups.example.org/join/confirm?token=abc",
		ManageLink: "https://peergroups.example.org/manage?token=xyz",
		Hours:      48,
		Minutes:    15,
		Days:       14,
		Council:    typed("Birmingham City Council"),
		Proposal:   &Proposal{ID: "p1", Area: typed("Atlantis")},
		Reason:     typed("There are no councils there."),
		When:       time.Date(2026, 12, 8, 14, 0, 0, 0, London).Format("Monday 2 January 2006 at 3:04pm"),
		Round:      &round,
		Mail:       &mailAckData{Ref: "PG-7K3Q9F", Class: MailDataRequest, Group: "midlands", Deadline: time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)},
	}
	values := []string{data.Name, data.Groups[0].Name, data.Interest, data.Council, data.Proposal.Area, data.Reason, round.Title}
	for _, name := range emailNames(t) {
		msg, err := render("ada@example.org", "A subject", name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.TrimSpace(msg.Text) == "" || strings.TrimSpace(msg.HTML) == "" {
			t.Errorf("%s: a part is empty", name)
		}
		if !strings.Contains(msg.Text, data.ManageLink) || !strings.Contains(msg.HTML, "manage?token=xyz") {
			t.Errorf("%s: no manage link in both parts", name)
		}
		if strings.Contains(msg.HTML, "<b>") {
			t.Errorf("%s: typed markup reached the HTML:\n%s", name, msg.HTML)
		}
		for _, v := range values {
			if strings.Contains(msg.Text, v) && !strings.Contains(msg.HTML, htmltemplate.HTMLEscapeString(v)) {
				t.Errorf("%s: the text shows %q but the HTML does not show it escaped", name, v)
			}
		}
		if strings.Contains(msg.Text+msg.HTML, "<no value>") {
			t.Errorf("%s: a value is missing", name)
		}
		if !strings.Contains(msg.HTML, `<html lang="en">`) || !strings.Contains(msg.HTML, "<title>A subject</title>") {
			t.Errorf("%s: the HTML part has no language or title", name)
		}
	}
}
