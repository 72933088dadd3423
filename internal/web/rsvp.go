package web

import (
	"errors"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// rsvpView asks whether a member is going (with the answer their link gave ticked),
// then (Done) says what was saved.
type rsvpView struct {
	base
	RSVP   pg.RSVP
	Token  string
	Answer string
	Done   bool
	Link   string // the member's own calendar link
}

// rsvpForm shows the answer an RSVP link gives, with a button to record it: following
// a link changes nothing.
func (s roundPages) rsvpForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	v, err := s.svc.RSVPFor(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	answer := r.URL.Query().Get("answer")
	if answer != pg.Going && answer != pg.NotGoing {
		answer = pg.Going
	}
	link, err := s.svc.CalendarLinkFor(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "rsvp", &rsvpView{base: base{Title: "Are you going?"}, RSVP: v, Token: tok, Answer: answer, Link: link})
}

func (s roundPages) rsvp(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Answer(r.Context(), token(r), values(r).Get("answer"))
	if err != nil && !errors.Is(err, pg.ErrLinkExpired) {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.svc.CalendarLinkFor(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "rsvp", &rsvpView{base: base{Title: "Your answer has been saved"}, RSVP: v, Done: true, Link: link})
}
