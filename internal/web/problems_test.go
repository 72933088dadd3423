package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kinds returns every error kind the domain names: they run from KindInternal, and a
// kind without a name of its own is called "internal".
func kinds(t *testing.T) []pg.Kind {
	all := []pg.Kind{pg.KindInternal}
	for k := pg.KindInternal + 1; k.String() != pg.KindInternal.String(); k++ {
		if k > 100 {
			t.Fatal("no end to the kinds")
		}
		all = append(all, k)
	}
	return all
}

// Every kind of domain error has its own status and a page that says, in words, what
// went wrong: none falls through to the internal error, whose words hide the cause.
func TestEveryErrorKindIsMappedToItsOwnStatusAndWords(t *testing.T) {
	all := kinds(t)
	if len(all) < 8 {
		t.Fatalf("%d kinds: %v", len(all), all)
	}
	statuses := map[int]pg.Kind{}
	for _, k := range all {
		err := pg.Errorf(k, "What went wrong, for people.")
		p := explain(fmt.Errorf("load something: %w", err), journey{})
		if other, ok := statuses[p.status]; ok {
			t.Errorf("%s and %s both give %d", k, other, p.status)
		}
		statuses[p.status] = k
		if p.page != "problem" || p.view.Title == "" || p.view.Message == "" {
			t.Errorf("%s: page %q, title %q, message %q", k, p.page, p.view.Title, p.view.Message)
		}
		if k == pg.KindInternal {
			if p.status != http.StatusInternalServerError || strings.Contains(p.view.Message, "What went wrong") {
				t.Errorf("internal: %d %q: the cause must not be shown", p.status, p.view.Message)
			}
			continue
		}
		if p.status == http.StatusInternalServerError || p.status < 400 {
			t.Errorf("%s: status %d", k, p.status)
		}
		if p.view.Message != "What went wrong, for people." {
			t.Errorf("%s: message %q, want the error's own", k, p.view.Message)
		}
	}
	// An error that is not the domain's is internal.
	if p := explain(fmt.Errorf("dial tcp: refused"), journey{}); p.status != http.StatusInternalServerError {
		t.Errorf("a plain error: %d", p.status)
	}
	// An unavailable dependency with nothing to say still says something.
	if p := explain(pg.Wrap(pg.KindUnavailable, fmt.Errorf("timeout"), ""), journey{}); p.status != http.StatusServiceUnavailable || p.view.Message == "" {
		t.Errorf("unavailable without a message: %d %q", p.status, p.view.Message)
	}
}

// A link from an email that does not work gets a page that names what the link was
// for, says how long such links last, and offers a way to get another.
func TestEveryLinkErrorIsMappedForEveryJourney(t *testing.T) {
	journeys := map[string]journey{
		"any link":     {},
		"sign-in link": {link: signInLink},
		"joining link": {link: joinLink, token: "tok"},
		"confirmation": {link: confirmLink, again: "/councils/sign-up"},
	}
	linkErrors := map[string]error{
		"expired": pg.ErrLinkExpired, "used": pg.ErrLinkUsed, "replaced": pg.ErrLinkReplaced,
		"invalid": pg.ErrLinkInvalid, "unknown sign-in": pg.ErrSignInLinkUnknown,
	}
	for jn, j := range journeys {
		for en, err := range linkErrors {
			p := explain(fmt.Errorf("open link: %w", err), j)
			if (p.status != http.StatusGone && p.status != http.StatusNotFound) || p.view.Title == "" || p.view.Message == "" {
				t.Errorf("%s, %s: %d %q %q", jn, en, p.status, p.view.Title, p.view.Message)
			}
		}
	}
	cases := []struct {
		name          string
		err           error
		j             journey
		status        int
		page, title   string
		message, link string
		resend, used  bool
	}{
		{"sign-in, expired", pg.ErrLinkExpired, journeys["sign-in link"], http.StatusGone, "problem", "This sign-in link has expired",
			"Sign-in links work for " + pg.DurationText(pg.SignInLinkTTL) + ".", "/sign-in", false, false},
		{"sign-in, used", pg.ErrSignInLinkUnknown, journeys["sign-in link"], http.StatusGone, "problem", "This sign-in link cannot be used",
			pg.MessageOf(pg.ErrSignInLinkUnknown), "/sign-in", false, false},
		{"sign-in, not valid", pg.ErrLinkInvalid, journeys["sign-in link"], http.StatusGone, "problem", "This sign-in link cannot be used",
			pg.MessageOf(pg.ErrSignInLinkUnknown), "/sign-in", false, false},
		{"joining, expired", pg.ErrLinkExpired, journeys["joining link"], http.StatusGone, "link-problem", "This link has expired",
			"Links to confirm that you want to join work for " + pg.DurationText(pg.ConfirmLinkTTL) + ".", "", true, false},
		{"confirmation, expired", pg.ErrLinkExpired, journeys["confirmation"], http.StatusGone, "problem", "This link has expired",
			"Confirmation links work for " + pg.DurationText(pg.ConfirmLinkTTL) + ".", "/councils/sign-up", false, false},
		{"confirmation, used", pg.ErrLinkUsed, journeys["confirmation"], http.StatusGone, "problem", "This link cannot be used again",
			pg.MessageOf(pg.ErrLinkUsed) + " If you have already confirmed, there is nothing more to do.", "/councils/sign-up", false, false},
		{"any, expired", pg.ErrLinkExpired, journeys["any link"], http.StatusGone, "link-problem", "This link has expired",
			pg.MessageOf(pg.ErrLinkExpired), "", false, false},
		{"any, replaced", pg.ErrLinkReplaced, journeys["any link"], http.StatusGone, "link-problem", "This link cannot be used again",
			pg.MessageOf(pg.ErrLinkReplaced), "", false, true},
		{"any, not valid", pg.ErrLinkInvalid, journeys["any link"], http.StatusNotFound, "link-problem", "This link is not valid",
			pg.MessageOf(pg.ErrLinkInvalid), "", false, false},
	}
	for _, c := range cases {
		p := explain(c.err, c.j)
		if p.status != c.status || p.page != c.page || p.view.Title != c.title || p.view.Message != c.message ||
			p.view.Link != c.link || p.view.Resend != c.resend || p.view.Used != c.used {
			t.Errorf("%s: got %d %s %q %q link %q resend %v used %v", c.name, p.status, p.page, p.view.Title, p.view.Message, p.view.Link, p.view.Resend, p.view.Used)
		}
		if c.resend && p.view.Token != "tok" {
			t.Errorf("%s: the page cannot send a new link without the old one's token", c.name)
		}
	}
}

// The words that say how long a link lasts follow the constants of the rules: a change
// of a constant changes the words, and no page says a duration of its own.
func TestDurationsInWordsFollowTheRules(t *testing.T) {
	if got, want := linkExpiresIn(pg.ConfirmLinkTTL), "The link expires in "+pg.DurationText(pg.ConfirmLinkTTL)+"."; got != want {
		t.Errorf("linkExpiresIn = %q, want %q", got, want)
	}
	for _, name := range []string{"check-email", "sign-in", "manage-link", "admin-round"} {
		tmpl, err := pages[name]()
		if err != nil {
			t.Fatal(err)
		}
		v := viewOf[name]()
		fill2 := func(v view) {
			switch v := v.(type) {
			case *checkEmailView:
				v.Expires = "SOME TIME"
			case *linkRequestView:
				v.Done, v.Expires = true, "SOME TIME"
			case *roundView:
				v.Round.State, v.Stalled = pg.RoundPublished, true
			}
		}
		fill2(v)
		var buf strings.Builder
		if err := tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
			t.Fatal(err)
		}
		want := "SOME TIME"
		if name == "admin-round" {
			want = "more than " + pg.DurationText(pg.SendingLease) + "."
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s does not say %q", name, want)
		}
	}
}
