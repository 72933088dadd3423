package web

import (
	"errors"
	"net/http"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// problemView is the page that says what went wrong and what to do: problem.html, or
// link-problem.html for a link from an email that did not work.
type problemView struct {
	base
	Message        string
	Link, LinkText string // a way on
	Used           bool   // link-problem: the link was used, or replaced by a newer one
	Resend         bool   // link-problem: offer to send a new link to confirm joining
	Token          string // the expired link, to send a new one from
}

// problemPage is how an error reaches a person: a status, a page and its words.
type problemPage struct {
	status int
	page   string
	view   problemView
}

// linkKind says what a link from an email was for, which changes what its error pages
// say and where they send the person next.
type linkKind int

const (
	anyLink     linkKind = iota // links in general: manage, unsubscribe, RSVP, invitations
	signInLink                  // a sign-in link
	joinLink                    // a link to confirm joining
	confirmLink                 // a once-only link to confirm a form (council sign-up, proposal, interest)
)

// journey is the link a request came with, if any: its kind, the form to fill in again
// for a new confirmation link, and the expired token to send a new joining link from.
type journey struct {
	link  linkKind
	again string
	token string
}

// explain maps every error of the domain to what a person is shown: the one place
// where kinds become statuses and words. The durations in the words come from the
// constants the rules use.
func explain(err error, j journey) problemPage {
	msg := pg.MessageOf(err)
	expired := errors.Is(err, pg.ErrLinkExpired)
	used := errors.Is(err, pg.ErrLinkUsed) || errors.Is(err, pg.ErrLinkReplaced)
	switch {
	case j.link == signInLink && expired:
		return problemPage{http.StatusGone, "problem", problemView{base: base{Title: "This sign-in link has expired"},
			Message: "Sign-in links work for " + pg.DurationText(pg.SignInLinkTTL) + ".", Link: "/sign-in", LinkText: "Get a new sign-in link"}}
	case j.link == signInLink && (errors.Is(err, pg.ErrSignInLinkUnknown) || errors.Is(err, pg.ErrLinkInvalid)):
		return problemPage{http.StatusGone, "problem", problemView{base: base{Title: "This sign-in link cannot be used"},
			Message: pg.MessageOf(pg.ErrSignInLinkUnknown), Link: "/sign-in", LinkText: "Get a new sign-in link"}}
	case j.link == joinLink && expired:
		return problemPage{http.StatusGone, "link-problem", problemView{base: base{Title: "This link has expired"},
			Message: "Links to confirm that you want to join work for " + pg.DurationText(pg.ConfirmLinkTTL) + ".", Resend: true, Token: j.token}}
	case j.link == confirmLink && expired:
		return problemPage{http.StatusGone, "problem", problemView{base: base{Title: "This link has expired"},
			Message: "Confirmation links work for " + pg.DurationText(pg.ConfirmLinkTTL) + ".", Link: j.again, LinkText: "Fill in the form again"}}
	case j.link == confirmLink && used:
		return problemPage{http.StatusGone, "problem", problemView{base: base{Title: "This link cannot be used again"},
			Message: msg + " If you have already confirmed, there is nothing more to do.", Link: j.again, LinkText: "Fill in the form again"}}
	case expired:
		return problemPage{http.StatusGone, "link-problem", problemView{base: base{Title: "This link has expired"}, Message: msg}}
	case used:
		return problemPage{http.StatusGone, "link-problem", problemView{base: base{Title: "This link cannot be used again"}, Message: msg, Used: true}}
	case errors.Is(err, pg.ErrLinkInvalid):
		return problemPage{http.StatusNotFound, "link-problem", problemView{base: base{Title: "This link is not valid"}, Message: msg}}
	}
	says := func(status int, title, message string) problemPage {
		return problemPage{status, "problem", problemView{base: base{Title: title}, Message: message}}
	}
	switch pg.KindOf(err) {
	case pg.KindInvalid:
		return says(http.StatusBadRequest, "There is a problem", msg)
	case pg.KindNotFound:
		return says(http.StatusNotFound, "We could not find that", msg)
	case pg.KindGone:
		return says(http.StatusGone, "This is no longer available", msg)
	case pg.KindConflict:
		return says(http.StatusConflict, "Something changed", msg)
	case pg.KindForbidden:
		return says(http.StatusForbidden, "You cannot do that", msg)
	case pg.KindTooMany:
		return says(http.StatusTooManyRequests, "Too many requests", msg)
	case pg.KindUnavailable:
		if msg == "" {
			msg = "The service is not available just now. Try again in a few minutes."
		}
		return says(http.StatusServiceUnavailable, "Sorry, the service is unavailable", msg)
	default:
		return says(http.StatusInternalServerError, "Sorry, there is a problem with the service",
			"Try again later. Nothing you sent has been lost: if you were filling in a form, go back and send it again.")
	}
}

// fail shows the page for an error of the domain. Only internal errors and unavailable
// dependencies are logged as errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.failLink(w, r, err, journey{})
}

// failLink is fail for a request that came with a link of the journey j.
func (s *Server) failLink(w http.ResponseWriter, r *http.Request, err error, j journey) {
	p := explain(err, j)
	switch p.status {
	case http.StatusTooManyRequests:
		s.Log.WarnContext(r.Context(), "rate limit reached", "path", r.URL.Path)
	case http.StatusServiceUnavailable:
		s.Log.ErrorContext(r.Context(), "dependency unavailable", "path", r.URL.Path, "error", err)
	case http.StatusInternalServerError:
		s.Log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "error", err)
	}
	s.render(w, r, p.status, p.page, &p.view)
}

// problem shows a page that says what went wrong and what to do, for the problems the
// web layer finds itself (a form it cannot read, a page that does not exist).
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, status, "problem", &problemView{base: base{Title: title}, Message: message})
}

// linkExpiresIn says how long a link just sent lasts: "The link expires in 48 hours."
func linkExpiresIn(ttl time.Duration) string {
	return "The link expires in " + pg.DurationText(ttl) + "."
}
