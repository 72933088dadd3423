package web

import (
	"context"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// managePages serves the pages of membership: managing and leaving.
type managePages struct {
	*Server
	svc manageService
}

// manageService is what these pages call of the domain.
type manageService interface {
	ChangeGroups(ctx context.Context, token string, want, offered []string) (pg.MembershipView, error)
	LeaveAll(ctx context.Context, token string) (pg.MembershipView, error)
	LeaveGroup(ctx context.Context, token, groupID string) (pg.MembershipView, error)
	Manage(ctx context.Context, token string) (pg.MembershipView, error)
	SendManageLink(ctx context.Context, email, clientIP string) error
	Unsubscribe(ctx context.Context, token string) ([]pg.Group, error)
	UnsubscribeGroups(ctx context.Context, token string) ([]pg.Group, error)
}

// manageView is a member's page of their groups, opened with their link.
type manageView struct {
	base
	Token      string
	Membership pg.MembershipView
}

// unsubscribeView asks before unsubscribing, then (Done) says it is done.
type unsubscribeView struct {
	base
	Token  string
	Done   bool
	Joined []pg.Group // the groups the link unsubscribes from
}

func (s managePages) manage(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	view, err := s.svc.Manage(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "manage", &manageView{base: base{Title: "Manage your membership"}, Token: tok, Membership: view})
}

func (s managePages) manageGroups(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	view, err := s.svc.ChangeGroups(r.Context(), tok, values(r)["groups"], values(r)["offered"])
	if pg.KindOf(err) == pg.KindInvalid {
		s.render(w, r, http.StatusBadRequest, "manage", &manageView{base: base{Title: "Manage your membership",
			Errors: pg.FieldErrors{{Field: "groups", Message: pg.MessageOf(err)}}}, Token: tok, Membership: view})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	banner := "Your groups have been saved"
	if len(view.Member) == 0 {
		banner = "You have left all peer groups"
	}
	s.render(w, r, http.StatusOK, "manage", &manageView{base: base{Title: "Manage your membership", Banner: banner}, Token: tok, Membership: view})
}

func (s managePages) manageLeave(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	groupID := values(r).Get("group")
	view, err := s.svc.LeaveGroup(r.Context(), tok, groupID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	banner := "You have left the group"
	if g, ok := pg.FindGroup(view.Groups, groupID); ok {
		banner = "You have left the " + g.Name + " peer group"
	}
	s.render(w, r, http.StatusOK, "manage", &manageView{base: base{Title: "Manage your membership", Banner: banner}, Token: tok, Membership: view})
}

func (s managePages) manageLeaveAll(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	view, err := s.svc.LeaveAll(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "manage", &manageView{base: base{Title: "Manage your membership", Banner: "You have left all peer groups"}, Token: tok, Membership: view})
}

func (s managePages) manageLinkForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "manage-link", &linkRequestView{base: base{Title: "Get a link to manage your membership"}})
}

func (s managePages) manageLink(w http.ResponseWriter, r *http.Request) {
	email, errs := decodeEmail(values(r))
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "manage-link", &linkRequestView{base: base{Title: "Get a link to manage your membership", Errors: errs}, Form: contact{Email: email}})
		return
	}
	if err := s.svc.SendManageLink(r.Context(), email, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "manage-link", &linkRequestView{base: base{Title: "Check your email"}, Done: true, Expires: pg.DurationText(pg.ManageLinkTTLAsked)})
}

func (s managePages) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	groups, err := s.svc.UnsubscribeGroups(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "unsubscribe", &unsubscribeView{base: base{Title: "Unsubscribe"}, Token: tok, Joined: groups})
}

// unsubscribe leaves on POST, from the page's button or from a mail client's
// one-click request (RFC 8058: body "List-Unsubscribe=One-Click", no cookies).
func (s managePages) unsubscribe(w http.ResponseWriter, r *http.Request) {
	groups, err := s.svc.Unsubscribe(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if values(r).Get("List-Unsubscribe") == "One-Click" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("You have been unsubscribed.\n"))
		return
	}
	s.render(w, r, http.StatusOK, "unsubscribe", &unsubscribeView{base: base{Title: "You have unsubscribed"}, Done: true, Joined: groups})
}
