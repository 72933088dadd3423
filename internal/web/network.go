package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// networkPages serves the pages of network: groups, facilitators, admins, audit.
type networkPages struct {
	*Server
	svc networkService
}

// networkService is what these pages call of the domain.
type networkService interface {
	AdminList(ctx context.Context, c pg.Caller) (appointed, configured []string, err error)
	AppointFacilitator(ctx context.Context, c pg.Caller, group, email string) error
	AuditTrail(ctx context.Context, c pg.Caller, before string) ([]pg.AuditEntry, string, error)
	CreateGroup(ctx context.Context, c pg.Caller, g pg.Group) error
	Facilitators(ctx context.Context, c pg.Caller, group string) ([]string, error)
	Group(ctx context.Context, id string) (pg.Group, error)
	GroupForEdit(ctx context.Context, c pg.Caller, id string) (pg.Group, error)
	Groups(ctx context.Context) ([]pg.Group, error)
	Members(ctx context.Context, c pg.Caller, group string, status pg.Status) ([]pg.MemberRow, error)
	MembersPageAt(ctx context.Context, c pg.Caller, group string, status pg.Status, cursor string) (pg.MembersPage, error)
	RemoveFacilitator(ctx context.Context, c pg.Caller, group, email string) error
	Rounds(ctx context.Context) ([]pg.Round, error)
	SetAdmin(ctx context.Context, c pg.Caller, email string, grant bool) error
	SetPaused(ctx context.Context, c pg.Caller, id string, paused bool) error
	UpdateGroup(ctx context.Context, c pg.Caller, g pg.Group, form []string) error
	ChangeGroupAddress(ctx context.Context, c pg.Caller, id string, version int, local string) error
}

// groupListView lists groups: all of them to the admins, a facilitator's own to them.
type groupListView struct {
	base
	Groups []pg.Group
}

// groupFields are what the group's form shows (the groupFields and publicFields
// templates): the group, the regions there are and those it covers.
type groupFields struct {
	Group   pg.Group
	Regions []string
	Chosen  map[string]bool // the regions ticked
}

// groupFormView is the admins' form that creates a group.
type groupFormView struct {
	base
	groupFields
}

// groupAdminView is a group as the admins see it: its settings and facilitators.
type groupAdminView struct {
	base
	groupFields
	Facilitators []string
	Form         contact // the address of a facilitator to appoint, kept on error
	// MailDomain is the groups' addresses' domain ("" when mail in has none), and
	// Address the local part typed in the address form, kept on error.
	MailDomain string
	Address    string
}

// groupConflictView answers an edit made to a version of the group that is no longer
// the stored one.
type groupConflictView struct {
	base
	groupFields
	Differences []difference // what is stored now and what was sent
	Action      string       // where the form posts
	AllFields   bool         // the admin's form (every field), not the facilitator's
}

// adminsView lists the admins: those configured, those appointed here.
type adminsView struct {
	base
	Admins           []string
	ConfiguredAdmins []string
	Form             contact // the address of an admin to appoint, kept on error
}

// auditView is a page of the audit trail, with the cursor of the next.
type auditView struct {
	base
	Audit []pg.AuditEntry
	Next  string
}

func (s networkPages) adminHome(w http.ResponseWriter, r *http.Request) {
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The message is chosen by a fixed key, never taken from the query: a link from
	// anywhere could otherwise put its own words on the admin's page.
	s.render(w, r, http.StatusOK, "admin", &groupListView{base: base{Title: "Admin", Banner: bannerFor(r.URL.Query().Get("done"))}, Groups: groups})
}

func (s networkPages) groupNewForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "group-form", &groupFormView{base: base{Title: "Create a group"}, groupFields: groupFields{Regions: s.Councils.Regions(), Chosen: map[string]bool{}}})
}

func (s networkPages) groupCreate(w http.ResponseWriter, r *http.Request) {
	g, errs := decodeGroup(values(r), s.Councils, true)
	if len(errs) == 0 {
		err := s.svc.CreateGroup(r.Context(), caller(r), g)
		if pg.KindOf(err) == pg.KindConflict {
			errs = pg.FieldErrors{{Field: "id", Message: pg.MessageOf(err)}}
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "group-form", &groupFormView{base: base{Title: "Create a group", Errors: errs}, groupFields: groupFields{Group: g, Regions: s.Councils.Regions(), Chosen: chosen(g.Regions)}})
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(g.ID)+"?done=created", http.StatusSeeOther)
}

func chosen(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// groupAdmin shows a group's settings, facilitators and the way to its members.
func (s networkPages) groupAdmin(w http.ResponseWriter, r *http.Request) {
	s.renderGroupAdmin(w, r, http.StatusOK, &groupAdminView{base: base{Banner: bannerFor(r.URL.Query().Get("done"))}})
}

func bannerFor(done string) string {
	return map[string]string{
		"created":   "The group has been created",
		"saved":     "Your changes have been saved",
		"paused":    "The group has been paused: it takes no new members",
		"resumed":   "The group has been resumed",
		"appointed": "The facilitator has been appointed and sent an invitation",
		"removed":   "The facilitator has been removed",
		"address":   "The group’s email address has been changed. Mail to its old address still reaches it for 90 days",
	}[done]
}

func (s networkPages) renderGroupAdmin(w http.ResponseWriter, r *http.Request, status int, p *groupAdminView) {
	c := caller(r)
	g, err := s.svc.GroupForEdit(r.Context(), c, r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	facilitators, err := s.svc.Facilitators(r.Context(), c, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Errors == nil || p.Group.ID == "" {
		p.Group = g
	}
	p.Group.Paused = g.Paused
	p.Title = g.Name
	p.Regions = s.Councils.Regions()
	p.Chosen = chosen(p.Group.Regions)
	p.Facilitators = facilitators
	p.MailDomain = s.GroupsMailDomain
	if p.Errors.For("address") == "" {
		p.Address = g.MailLocal()
	}
	s.render(w, r, status, "group-admin", p)
}

// groupAddress changes a group's email address (admins only), from the version of the
// group the form was read at.
func (s networkPages) groupAddress(w http.ResponseWriter, r *http.Request) {
	v := values(r)
	id, local := r.PathValue("group"), strings.TrimSpace(v.Get("address"))
	err := s.svc.ChangeGroupAddress(r.Context(), caller(r), id, decodeVersion(v), local)
	var fields pg.FieldErrors
	switch {
	case errors.As(err, &fields):
		s.renderGroupAdmin(w, r, http.StatusBadRequest, &groupAdminView{base: base{Errors: fields}, Address: local})
		return
	case errors.Is(err, pg.ErrGroupChanged):
		s.renderGroupAdmin(w, r, http.StatusConflict, &groupAdminView{base: base{Errors: pg.FieldErrors{{Field: "address", Message: "Someone else changed this group while you were editing it: check its email address and try again"}}}, Address: local})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(id)+"?done=address", http.StatusSeeOther)
}

func (s networkPages) groupUpdate(w http.ResponseWriter, r *http.Request) {
	g, errs := decodeGroup(values(r), s.Councils, false)
	g.ID = r.PathValue("group")
	if len(errs) > 0 {
		s.renderGroupAdmin(w, r, http.StatusBadRequest, &groupAdminView{base: base{Errors: errs}, groupFields: groupFields{Group: g}})
		return
	}
	err := s.svc.UpdateGroup(r.Context(), caller(r), g, pg.AllGroupFields)
	if errors.Is(err, pg.ErrGroupChanged) {
		s.groupConflict(w, r, g, "/admin/groups/"+url.PathEscape(g.ID))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(g.ID)+"?done=saved", http.StatusSeeOther)
}

// groupConflict answers an edit made to a version of the group that is no longer the
// stored one: 409, what is stored now beside what the editor sent, and the form again,
// filled with what is stored now and carrying its version, so that saving it again
// loses nothing of the other change.
func (s networkPages) groupConflict(w http.ResponseWriter, r *http.Request, sent pg.Group, action string) {
	current, err := s.svc.GroupForEdit(r.Context(), caller(r), sent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	full := strings.HasPrefix(action, "/admin/")
	rows := []difference{
		{Label: "Description", Now: current.Description, Sent: sent.Description},
		{Label: "Contact email address", Now: current.Contact, Sent: sent.Contact},
	}
	if full {
		rows = append([]difference{
			{Label: "Name", Now: current.Name, Sent: sent.Name},
			{Label: "Regions it covers", Now: strings.Join(current.Regions, ", "), Sent: strings.Join(sent.Regions, ", ")},
		}, rows...)
	}
	s.render(w, r, http.StatusConflict, "group-conflict", &groupConflictView{
		base: base{Title: "Someone else changed this group"}, Differences: rows, Action: action, AllFields: full,
		groupFields: groupFields{Group: current, Regions: s.Councils.Regions(), Chosen: chosen(current.Regions)},
	})
}

// difference is one field of a group on the conflict page: what is stored now and what
// the editor sent.
type difference struct {
	Label, Now, Sent string
}

func (s networkPages) groupPause(w http.ResponseWriter, r *http.Request)  { s.setPaused(w, r, true) }
func (s networkPages) groupResume(w http.ResponseWriter, r *http.Request) { s.setPaused(w, r, false) }

func (s networkPages) setPaused(w http.ResponseWriter, r *http.Request, paused bool) {
	id := r.PathValue("group")
	if err := s.svc.SetPaused(r.Context(), caller(r), id, paused); err != nil {
		s.fail(w, r, err)
		return
	}
	done := "resumed"
	if paused {
		done = "paused"
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
}

func (s networkPages) facilitatorAppoint(w http.ResponseWriter, r *http.Request) {
	email, errs := decodeEmail(values(r))
	if len(errs) > 0 {
		s.renderGroupAdmin(w, r, http.StatusBadRequest, &groupAdminView{base: base{Errors: errs}, Form: contact{Email: email}})
		return
	}
	id := r.PathValue("group")
	if err := s.svc.AppointFacilitator(r.Context(), caller(r), id, email); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(id)+"?done=appointed", http.StatusSeeOther)
}

func (s networkPages) facilitatorRemove(w http.ResponseWriter, r *http.Request) {
	email, errs := decodeEmail(values(r))
	id := r.PathValue("group")
	if len(errs) > 0 {
		s.problem(w, r, http.StatusBadRequest, "There is a problem", "That is not the address of a facilitator.")
		return
	}
	if err := s.svc.RemoveFacilitator(r.Context(), caller(r), id, email); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(id)+"?done=removed", http.StatusSeeOther)
}

func (s networkPages) adminsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAdmins(w, r, http.StatusOK, &adminsView{base: base{Banner: map[string]string{"appointed": "The admin has been appointed", "removed": "The admin has been removed"}[r.URL.Query().Get("done")]}})
}

func (s networkPages) renderAdmins(w http.ResponseWriter, r *http.Request, status int, p *adminsView) {
	appointed, configured, err := s.svc.AdminList(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Admins, p.ConfiguredAdmins = "Admins", appointed, configured
	s.render(w, r, status, "admins", p)
}

func (s networkPages) adminAppoint(w http.ResponseWriter, r *http.Request) {
	email, errs := decodeEmail(values(r))
	if len(errs) > 0 {
		s.renderAdmins(w, r, http.StatusBadRequest, &adminsView{base: base{Errors: errs}, Form: contact{Email: email}})
		return
	}
	if err := s.svc.SetAdmin(r.Context(), caller(r), email, true); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/admins?done=appointed", http.StatusSeeOther)
}

func (s networkPages) adminRemove(w http.ResponseWriter, r *http.Request) {
	email, _ := decodeEmail(values(r))
	if err := s.svc.SetAdmin(r.Context(), caller(r), email, false); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/admins?done=removed", http.StatusSeeOther)
}

func (s networkPages) auditPage(w http.ResponseWriter, r *http.Request) {
	entries, next, err := s.svc.AuditTrail(r.Context(), caller(r), r.URL.Query().Get("before"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "audit", &auditView{base: base{Title: "Audit trail"}, Audit: entries, Next: next})
}
