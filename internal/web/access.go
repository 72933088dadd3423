package web

import (
	"context"
	"net/http"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// accessPages serves the pages of access: signing in and out, the account page.
type accessPages struct {
	*Server
	svc accessService
}

// accessService is what these pages call of the domain.
type accessService interface {
	Caller(ctx context.Context, sessionID string) (pg.Caller, error)
	CheckSignInLink(ctx context.Context, token string) error
	ManageLinkFor(c pg.Caller) (string, error)
	RequestSignIn(ctx context.Context, email, clientIP string) error
	SignIn(ctx context.Context, token string) (string, pg.Caller, error)
	SignOut(ctx context.Context, c pg.Caller) error
}

// Access says who may use a route.
type Access int

const (
	Public           Access = iota // anyone
	SignedIn                       // anyone with a session
	AnyFacilitator                 // facilitators of any group, and admins
	GroupFacilitator               // facilitators of the group in the path, and admins
	Admin                          // admins
)

func (a Access) String() string {
	return [...]string{"public", "signed in", "any facilitator", "facilitator of the group", "admin"}[a]
}

// Sessions names and signs the session cookie.
type Sessions struct {
	Keys   *links.Keyring // signs cookie values
	Secure bool
}

func (ss *Sessions) cookieName() string {
	if ss.Secure {
		return "__Host-session"
	}
	return "session"
}

func (ss *Sessions) set(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: ss.cookieName(), Value: pg.SignSession(ss.Keys, id), Path: "/",
		MaxAge: int(pg.SessionTTL.Seconds()), HttpOnly: true, Secure: ss.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func (ss *Sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: ss.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: ss.Secure, SameSite: http.SameSiteLaxMode})
}

type callerKey struct{}

// caller returns who is making the request (anonymous when nobody is signed in).
func caller(r *http.Request) pg.Caller {
	c, _ := r.Context().Value(callerKey{}).(pg.Caller)
	return c
}

// identify reads the session cookie, if there is one, and puts the caller in the
// request's context. A forged or unknown cookie makes an anonymous caller.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(s.Sessions.cookieName())
		if err != nil || ck.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		id, ok := pg.OpenSession(s.Sessions.Keys, ck.Value)
		if !ok {
			s.Log.WarnContext(r.Context(), "session cookie with a bad signature")
			s.Sessions.clear(w)
			next.ServeHTTP(w, r)
			return
		}
		c, err := s.Access.Caller(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !c.SignedIn() {
			s.Sessions.clear(w)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// guard lets a request through to h only if the caller may use the route: others
// are sent to sign in (when anonymous) or told they may not (403).
func (s *Server) guard(access Access, h http.HandlerFunc) http.Handler {
	if access == Public {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := caller(r)
		if !c.SignedIn() {
			http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
			return
		}
		allowed := false
		switch access {
		case SignedIn:
			allowed = true
		case AnyFacilitator:
			allowed = c.Admin || c.IsFacilitator()
		case GroupFacilitator:
			allowed = c.CanFacilitate(r.PathValue("group"))
		case Admin:
			allowed = c.Admin
		}
		if !allowed {
			s.problem(w, r, http.StatusForbidden, "You cannot see this page", "Your account does not have permission to see this page. If you think it should, contact a network admin.")
			return
		}
		h(w, r)
	})
}

// linkRequestView is a page that emails a link to the address typed (sign-in.html,
// manage-link.html): the form, then, when Done, how long the link lasts.
type linkRequestView struct {
	base
	Form    contact
	Done    bool
	Expires string // "15 minutes"
}

// signInLinkView is the page a sign-in link opens: a button that signs in.
type signInLinkView struct {
	base
	Token string
}

func (s accessPages) signInForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "sign-in", &linkRequestView{base: base{Title: "Sign in"}})
}

func (s accessPages) signInRequest(w http.ResponseWriter, r *http.Request) {
	email, errs := decodeEmail(values(r))
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "sign-in", &linkRequestView{base: base{Title: "Sign in", Errors: errs}, Form: contact{Email: email}})
		return
	}
	if err := s.svc.RequestSignIn(r.Context(), email, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "sign-in", &linkRequestView{base: base{Title: "Check your email"}, Done: true, Expires: pg.DurationText(pg.SignInLinkTTL)})
}

// signInLinkPage shows a button that signs in: following a link changes nothing, so
// that mail scanners cannot use it up.
func (s accessPages) signInLinkPage(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	if err := s.svc.CheckSignInLink(r.Context(), tok); err != nil {
		s.failLink(w, r, err, journey{link: signInLink})
		return
	}
	s.render(w, r, http.StatusOK, "sign-in-link", &signInLinkView{base: base{Title: "Sign in to Peer Groups"}, Token: tok})
}

func (s accessPages) signIn(w http.ResponseWriter, r *http.Request) {
	id, c, err := s.svc.SignIn(r.Context(), token(r))
	if err != nil {
		s.failLink(w, r, err, journey{link: signInLink})
		return
	}
	s.Sessions.set(w, id)
	http.Redirect(w, r, home(c), http.StatusSeeOther)
}

// home is where a signed-in caller starts.
func home(c pg.Caller) string {
	switch {
	case c.Admin:
		return "/admin"
	case c.IsFacilitator():
		return "/facilitate"
	default:
		return "/account"
	}
}

func (s accessPages) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignOut(r.Context(), caller(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Sessions.clear(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// account sends a signed-in member to their membership page, with a fresh link.
func (s accessPages) account(w http.ResponseWriter, r *http.Request) {
	link, err := s.svc.ManageLinkFor(caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, link, http.StatusSeeOther)
}
