package peergroups

import (
	"strings"
	"testing"
)

// Every email renders, with a text and an HTML part, the manage link in both, and the
// person's name escaped in the HTML.
func TestEveryEmailRenders(t *testing.T) {
	data := emailData{
		Name:       `<b>Ada</b> & co`,
		Groups:     []Group{{ID: "london", Name: "London"}},
		Interest:   "North West",
		Link:       "https://peergroups.example.org/join/confirm?token=abc",
		ManageLink: "https://peergroups.example.org/manage?token=xyz",
		Hours:      48,
	}
	for _, name := range []string{"confirm", "welcome", "manage"} {
		msg, err := render("ada@example.org", "A subject", name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(msg.Text, data.ManageLink) || !strings.Contains(msg.HTML, "manage?token=xyz") {
			t.Errorf("%s: no manage link in both parts", name)
		}
		if strings.Contains(msg.HTML, "<b>Ada") {
			t.Errorf("%s: the name is not escaped in the HTML", name)
		}
		if !strings.Contains(msg.HTML, `<html lang="en">`) || !strings.Contains(msg.HTML, "<title>A subject</title>") {
			t.Errorf("%s: the HTML part has no language or title", name)
		}
	}
}
