package web

import (
	"context"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// registerPages serves the pages of register: councils signed up to the Standard.
type registerPages struct {
	*Server
	svc registerService
}

// registerService is what these pages call of the domain.
type registerService interface {
	ConfirmRegistration(ctx context.Context, token string) (pg.Council, bool, error)
	DeclineRegistration(ctx context.Context, c pg.Caller, code, reason string) error
	FullRegister(ctx context.Context, c pg.Caller) ([]pg.RegisterEntry, error)
	ListRegistration(ctx context.Context, c pg.Caller, code string) error
	PendingRegistrationFor(ctx context.Context, token string) (pg.PendingRegistration, pg.Council, error)
	PublicRegister(ctx context.Context) ([]pg.RegionEntries, error)
	RegisterEntryFor(ctx context.Context, c pg.Caller, code string) (pg.RegisterEntry, []pg.RegisterContact, error)
	RequestRegistration(ctx context.Context, f pg.RegisterForm, clientIP string) error
	WithdrawRegistration(ctx context.Context, c pg.Caller, code, reason string) error
}

// summary is one row of a summary list on a confirmation page.
type summary struct{ Key, Value string }

// registerView is the public register of councils.
type registerView struct {
	base
	Register []pg.RegionEntries
}

// registerFormView is the form that signs a council up.
type registerFormView struct {
	base
	Councils  []pg.Council
	Register1 pg.RegisterForm // the answers
}

// confirmLinkView is the page a once-only link opens (council sign-ups, proposals,
// interest, invitations): what it confirms, and a button that posts to Action.
type confirmLinkView struct {
	base
	Token   string
	Action  string
	Button  string
	Summary []summary
	Message string
}

// doneView says that something is done (done.html) or that an email is on its way
// (sent.html), with a way on.
type doneView struct {
	base
	Message        string
	Link, LinkText string
}

// adminCouncilsView is the admins' list of councils: waiting, and decided.
type adminCouncilsView struct {
	base
	Waiting []pg.RegisterEntry // council sign-ups waiting for an admin
	Entries []pg.RegisterEntry
}

// adminCouncilView is one council on the register, with the admin's decisions.
type adminCouncilView struct {
	base
	Entry    pg.RegisterEntry
	Contacts []pg.RegisterContact
	Reason   string // the reason typed, kept on error
}

func (s registerPages) registerPage(w http.ResponseWriter, r *http.Request) {
	regions, err := s.svc.PublicRegister(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "register", &registerView{base: base{Title: "Councils signed up to the Standard"}, Register: regions})
}

func (s registerPages) registerForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "register-form", &registerFormView{base: base{Title: "Sign your council up to the Standard"}, Councils: s.Councils.All()})
}

func (s registerPages) registerRequest(w http.ResponseWriter, r *http.Request) {
	f, errs := decodeRegister(values(r), s.Councils)
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "register-form", &registerFormView{base: base{Title: "Sign your council up to the Standard", Errors: errs}, Councils: s.Councils.All(), Register1: f})
		return
	}
	if err := s.svc.RequestRegistration(r.Context(), f, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sent(w, r, "We have sent you an email. Open the link in it to confirm your council’s sign-up. "+linkExpiresIn(pg.ConfirmLinkTTL))
}

// sent tells the person to check their email.
func (s *Server) sent(w http.ResponseWriter, r *http.Request, message string) {
	s.render(w, r, http.StatusOK, "sent", &doneView{base: base{Title: "Check your email"}, Message: message})
}

func (s registerPages) registerConfirmForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	p, c, err := s.svc.PendingRegistrationFor(r.Context(), tok)
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/councils/sign-up"})
		return
	}
	s.render(w, r, http.StatusOK, "confirm-link", &confirmLinkView{
		base: base{Title: "Confirm your council’s sign-up"}, Token: tok, Action: "/councils/confirm", Button: "Confirm",
		Summary: []summary{{"Council", c.Name}, {"Your name", p.Name}, {"Your role", p.Role}, {"Email address", p.Email}},
		Message: "When you confirm, the network’s admins check the sign-up, then show your council on the public register of councils that have signed up to the Standard.",
	})
}

func (s registerPages) registerConfirm(w http.ResponseWriter, r *http.Request) {
	c, listed, err := s.svc.ConfirmRegistration(r.Context(), token(r))
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/councils/sign-up"})
		return
	}
	message := "The network’s admins will check the sign-up, then show your council on the public register."
	if listed {
		message = "Your council is already on the public register. You have been added as one of its contacts."
	}
	s.render(w, r, http.StatusOK, "done", &doneView{base: base{Title: "Thank you: " + c.Name + "’s sign-up is confirmed"}, Message: message, Link: "/councils", LinkText: "See the register"})
}

func (s registerPages) adminCouncils(w http.ResponseWriter, r *http.Request) {
	all, err := s.svc.FullRegister(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &adminCouncilsView{base: base{Title: "Council register", Banner: registerBanners[r.URL.Query().Get("done")]}}
	for _, e := range all {
		if e.Pending() {
			p.Waiting = append(p.Waiting, e)
		} else {
			p.Entries = append(p.Entries, e)
		}
	}
	s.render(w, r, http.StatusOK, "admin-councils", p)
}

func (s registerPages) adminCouncil(w http.ResponseWriter, r *http.Request) {
	s.renderAdminCouncil(w, r, http.StatusOK, &adminCouncilView{})
}

func (s registerPages) renderAdminCouncil(w http.ResponseWriter, r *http.Request, status int, p *adminCouncilView) {
	e, contacts, err := s.svc.RegisterEntryFor(r.Context(), caller(r), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Entry, p.Contacts = e.Name, e, contacts
	s.render(w, r, status, "admin-council", p)
}

// registerBanners are the messages after an admin's decision on a council.
var registerBanners = map[string]string{
	"listed":    "The council is now on the public register",
	"declined":  "The council’s sign-up has been declined: it is not on the public register",
	"withdrawn": "The council has been withdrawn from the public register",
}

func (s registerPages) adminCouncilList(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.ListRegistration(r.Context(), caller(r), r.PathValue("code")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/councils?done=listed", http.StatusSeeOther)
}

func (s registerPages) adminCouncilDecline(w http.ResponseWriter, r *http.Request) {
	s.adminCouncilClose(w, r, "declined", s.svc.DeclineRegistration)
}

func (s registerPages) adminCouncilWithdraw(w http.ResponseWriter, r *http.Request) {
	s.adminCouncilClose(w, r, "withdrawn", s.svc.WithdrawRegistration)
}

// adminCouncilClose keeps a council off the public register, with a reason.
func (s registerPages) adminCouncilClose(w http.ResponseWriter, r *http.Request, done string, decide func(ctx context.Context, c pg.Caller, code, reason string) error) {
	reason, errs := decodeReason(values(r))
	if len(errs) > 0 {
		s.renderAdminCouncil(w, r, http.StatusBadRequest, &adminCouncilView{base: base{Errors: errs}, Reason: reason})
		return
	}
	if err := decide(r.Context(), caller(r), r.PathValue("code"), reason); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/councils?done="+done, http.StatusSeeOther)
}
