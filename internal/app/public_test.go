package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

// A done= message is chosen from a fixed set: text put in the query by a link from
// anywhere never appears on an admin's page, escaped or not.
func TestDoneMessagesComeFromAFixedSetNeverFromTheQuery(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	s.signIn(admin)
	planted := "Your account is locked: call 0800 PHISHING <b>now</b>"
	for _, path := range []string{"/admin", "/admin/groups/london", "/admin/admins", "/admin/councils", "/admin/proposals", "/admin/rounds", "/facilitate/london"} {
		r := s.get(path + "?done=" + url.QueryEscape(planted))
		if r.Status != 200 {
			t.Fatalf("%s: %d", path, r.Status)
		}
		if strings.Contains(r.Body, "PHISHING") {
			t.Errorf("%s shows the text of done=:\n%s", path, r.Body)
		}
	}
	mustContain(t, s.get("/admin?done=created").Body, "The group has been created")
}

// Over HTTPS every response tells browsers to use nothing else; over plain HTTP (local
// development) it does not, or a browser would refuse the local server afterwards.
func TestHSTSIsSentWhenTheServiceIsServedOverHTTPS(t *testing.T) {
	t.Parallel()
	paths := []string{"/", "/join", "/assets/app.css", "/no-such-page", "/rounds/1/events/london.ics", "/calendar.ics?token=x"}
	secure := newSite(t, map[string]string{"BASE_URL": "https://peergroups.example.org"})
	for _, path := range paths {
		if got := secure.get(path).Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
			t.Errorf("over HTTPS, %s: Strict-Transport-Security = %q", path, got)
		}
	}
	plain := newSite(t, nil)
	for _, path := range paths {
		if got := plain.get(path).Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("over plain HTTP, %s: Strict-Transport-Security = %q", path, got)
		}
	}
}
