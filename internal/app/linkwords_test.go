package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// What the pages say about how long a link lasts is what the rules do: the words come
// from the same constants (15 minutes for sign-in links, 48 hours to confirm).
func TestPagesSayHowLongLinksLastAsTheRulesDo(t *testing.T) {
	admin := testenv.Address("words-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})

	asked := s.post("/sign-in", url.Values{"email": {admin}})
	mustContain(t, asked.Body, "expires in "+pg.DurationText(pg.SignInLinkTTL)+".")
	link := testenv.Link(t, testenv.LastMail(t, admin).Body.Text, "/sign-in/link")
	s.Clock.Add(pg.SignInLinkTTL + time.Minute)
	expired := s.get(link)
	if expired.Status != http.StatusGone {
		t.Fatalf("a sign-in link past its time: %d, want 410", expired.Status)
	}
	mustContain(t, expired.Body, "This sign-in link has expired", "Sign-in links work for "+pg.DurationText(pg.SignInLinkTTL)+".", `href="/sign-in"`)

	email := testenv.Address("words-join")
	confirm := s.join(email)
	mustContain(t, s.get("/join/check-email").Body, "expires in "+pg.DurationText(pg.ConfirmLinkTTL)+" and works once")
	s.Clock.Add(pg.ConfirmLinkTTL + time.Minute)
	late := s.get(confirm)
	if late.Status != http.StatusGone {
		t.Fatalf("a link to confirm past its time: %d, want 410", late.Status)
	}
	mustContain(t, late.Body, "Links to confirm that you want to join work for "+pg.DurationText(pg.ConfirmLinkTTL)+".", "Send me a new link")

	sent := s.post("/councils/sign-up", url.Values{"council": {"BIR"}, "name": {"Ada Lovelace"}, "email": {testenv.Address("words-council")}, "role": {"Head of Digital"}})
	if !strings.Contains(sent.Body, "The link expires in "+pg.DurationText(pg.ConfirmLinkTTL)+".") {
		t.Errorf("council sign-up: %d, the page does not say how long the link lasts\n%s", sent.Status, sent.Body)
	}
}
