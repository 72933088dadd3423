package web

import (
	"context"
	"errors"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// joinPages serves the pages of membership: joining and confirming.
type joinPages struct {
	*Server
	svc joinService
}

// joinService is what these pages call of the domain.
type joinService interface {
	Confirm(ctx context.Context, token string) (pg.Signup, []pg.Group, error)
	Groups(ctx context.Context) ([]pg.Group, error)
	Join(ctx context.Context, f pg.SignupForm, clientIP string) error
	PendingSignup(ctx context.Context, token string) (pg.Signup, []pg.Group, error)
	ResendConfirmation(ctx context.Context, token, clientIP string) error
}

func (s joinPages) home(w http.ResponseWriter, r *http.Request) {
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", page{Title: "Peer groups for local government digital people", Groups: groups})
}

func (s joinPages) joinForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "join", page{Title: "Your details", Councils: s.Councils.All()})
}

// joinDetails checks the details page and shows the groups page, with the group for
// the person's region ticked.
func (s joinPages) joinDetails(w http.ResponseWriter, r *http.Request) {
	form, errs := decodeDetails(values(r), s.Councils)
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "join", page{Title: "Your details", Form: form, Errors: errs, Councils: s.Councils.All()})
		return
	}
	p, err := s.groupsPage(r, form, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "groups", p)
}

func (s joinPages) groupsPage(r *http.Request, form pg.SignupForm, errs pg.FieldErrors) (page, error) {
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		return page{}, err
	}
	p := page{Title: "Which peer groups do you want to join?", Form: form, Errors: errs, Hidden: signupValues(form), Chosen: map[string]bool{}}
	for _, g := range groups {
		if !g.Paused {
			p.Groups = append(p.Groups, g)
		}
	}
	p.Region = form.Region(s.Councils)
	suggested := pg.GroupsForRegion(groups, p.Region)
	if p.Region != "" && len(suggested) == 0 {
		p.NoGroupRegion = p.Region
	}
	if form.Groups == nil && errs == nil {
		for _, g := range suggested {
			p.Chosen[g.ID] = true
			p.Suggested = true
		}
	}
	for _, id := range form.Groups {
		p.Chosen[id] = true
	}
	return p, nil
}

// joinGroups takes the whole form, records the pending sign-up and sends the email.
func (s joinPages) joinGroups(w http.ResponseWriter, r *http.Request) {
	v := values(r)
	if v.Get("website") != "" {
		// The honeypot was filled in: a bot. Answer as if all went well; store nothing.
		s.Log.InfoContext(r.Context(), "honeypot filled in", "path", r.URL.Path)
		http.Redirect(w, r, "/join/check-email", http.StatusSeeOther)
		return
	}
	if v.Get("action") == "back" {
		form, _ := decodeDetails(v, s.Councils)
		s.render(w, r, http.StatusOK, "join", page{Title: "Your details", Form: form, Councils: s.Councils.All()})
		return
	}
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, errs := decodeSignup(v, s.Councils, groups)
	if len(errs) > 0 {
		// Details are carried in hidden fields: if they are wrong, someone changed
		// them, and the details page is where they can be put right.
		if _, detailErrs := decodeDetails(v, s.Councils); len(detailErrs) > 0 {
			s.render(w, r, http.StatusBadRequest, "join", page{Title: "Your details", Form: form, Errors: detailErrs, Councils: s.Councils.All()})
			return
		}
		p, err := s.groupsPage(r, form, errs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "groups", p)
		return
	}
	if err := s.svc.Join(r.Context(), form, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/join/check-email", http.StatusSeeOther)
}

func (s joinPages) checkEmail(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "check-email", page{Title: "Check your email", Hours: int(pg.ConfirmLinkTTL.Hours())})
}

// confirmForm shows what following the link will confirm. It changes nothing: mail
// scanners that follow links must not use up the link.
func (s joinPages) confirmForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	signup, joined, err := s.svc.PendingSignup(r.Context(), tok)
	if err != nil {
		s.linkFail(w, r, tok, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm that you want to join", Token: tok, Signup: signup, Joined: joined})
}

func (s joinPages) confirm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	signup, joined, err := s.svc.Confirm(r.Context(), tok)
	if err != nil && signup.Email == "" {
		s.linkFail(w, r, tok, err)
		return
	}
	if err != nil {
		// Confirmed, but the welcome email did not go: say so in the logs, not to them.
		s.Log.ErrorContext(r.Context(), "welcome email not sent", "error", err)
	}
	s.render(w, r, http.StatusOK, "confirmed", page{Title: "You have joined", Signup: signup, Joined: joined})
}

// linkFail shows why a confirmation link did not work, offering a new link when it
// has expired.
func (s joinPages) linkFail(w http.ResponseWriter, r *http.Request, tok string, err error) {
	if errors.Is(err, pg.ErrLinkExpired) {
		s.render(w, r, http.StatusGone, "link-problem", page{Title: "This link has expired", Message: "Links to confirm that you want to join work for 48 hours.", Resend: true, Token: tok})
		return
	}
	s.fail(w, r, err)
}

func (s joinPages) resend(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.ResendConfirmation(r.Context(), token(r), clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/join/check-email", http.StatusSeeOther)
}
