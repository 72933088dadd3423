package web

import (
	"context"
	"net/http"
	"net/url"

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

// homeView is the home page: the groups.
type homeView struct {
	base
	Groups     []pg.Group
	MailDomain string // the groups' addresses' domain, when mail in is configured
}

// detailsView is the first page of joining: the person's details.
type detailsView struct {
	base
	Form     pg.SignupForm
	Councils []pg.Council
}

// groupsView is the second page of joining: which groups, with the details carried in
// hidden fields.
type groupsView struct {
	base
	Form   pg.SignupForm
	Groups []pg.Group
	Hidden url.Values      // answers carried from the details page
	Chosen map[string]bool // groups ticked
	Region string
	// Suggested is set when the groups were ticked for the person's region.
	Suggested     bool
	NoGroupRegion string
}

// checkEmailView says that the link to confirm has been sent, and how long it lasts.
type checkEmailView struct {
	base
	Expires string // "48 hours"
}

// confirmView is the page a link to confirm opens (confirm.html: Token set), and the
// page after confirming (confirmed.html).
type confirmView struct {
	base
	Token  string
	Signup pg.Signup
	Joined []pg.Group
}

func (s joinPages) home(w http.ResponseWriter, r *http.Request) {
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", &homeView{base: base{Title: "Peer groups for local government digital people"}, Groups: groups, MailDomain: s.GroupsMailDomain})
}

func (s joinPages) joinForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "join", &detailsView{base: base{Title: "Your details"}, Councils: s.Councils.All()})
}

// joinDetails checks the details page and shows the groups page, with the group for
// the person's region ticked.
func (s joinPages) joinDetails(w http.ResponseWriter, r *http.Request) {
	form, errs := decodeDetails(values(r), s.Councils)
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "join", &detailsView{base: base{Title: "Your details", Errors: errs}, Form: form, Councils: s.Councils.All()})
		return
	}
	p, err := s.groupsPage(r, form, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "groups", p)
}

func (s joinPages) groupsPage(r *http.Request, form pg.SignupForm, errs pg.FieldErrors) (*groupsView, error) {
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		return nil, err
	}
	p := &groupsView{base: base{Title: "Which peer groups do you want to join?", Errors: errs}, Form: form, Hidden: signupValues(form), Chosen: map[string]bool{}}
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
		s.render(w, r, http.StatusOK, "join", &detailsView{base: base{Title: "Your details"}, Form: form, Councils: s.Councils.All()})
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
			s.render(w, r, http.StatusBadRequest, "join", &detailsView{base: base{Title: "Your details", Errors: detailErrs}, Form: form, Councils: s.Councils.All()})
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
	s.render(w, r, http.StatusOK, "check-email", &checkEmailView{base: base{Title: "Check your email"}, Expires: pg.DurationText(pg.ConfirmLinkTTL)})
}

// confirmForm shows what following the link will confirm. It changes nothing: mail
// scanners that follow links must not use up the link.
func (s joinPages) confirmForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	signup, joined, err := s.svc.PendingSignup(r.Context(), tok)
	if err != nil {
		s.failLink(w, r, err, journey{link: joinLink, token: tok})
		return
	}
	s.render(w, r, http.StatusOK, "confirm", &confirmView{base: base{Title: "Confirm that you want to join"}, Token: tok, Signup: signup, Joined: joined})
}

func (s joinPages) confirm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	signup, joined, err := s.svc.Confirm(r.Context(), tok)
	if err != nil && signup.Email == "" {
		s.failLink(w, r, err, journey{link: joinLink, token: tok})
		return
	}
	if err != nil {
		// Confirmed, but the welcome email did not go: say so in the logs, not to them.
		s.Log.ErrorContext(r.Context(), "welcome email not sent", "error", err)
	}
	s.render(w, r, http.StatusOK, "confirmed", &confirmView{base: base{Title: "You have joined"}, Signup: signup, Joined: joined})
}

func (s joinPages) resend(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.ResendConfirmation(r.Context(), token(r), clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/join/check-email", http.StatusSeeOther)
}
