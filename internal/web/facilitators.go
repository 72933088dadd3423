package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// facilitateGroupView is a group as its facilitators see it: its members, its rounds
// and the public details they may edit.
type facilitateGroupView struct {
	base
	Group       pg.Group
	Rounds      []pg.Round
	Status      string // the members shown: confirmed, pending or left
	Members     []pg.MemberRow
	MembersPage pg.MembersPage
	MailDomain  string // the groups' addresses' domain, "" when they have none
}

func (s networkPages) facilitateHome(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var mine []pg.Group
	for _, g := range groups {
		if c.CanFacilitate(g.ID) {
			mine = append(mine, g)
		}
	}
	s.render(w, r, http.StatusOK, "facilitate", &groupListView{base: base{Title: "Your groups"}, Groups: mine})
}

// facilitateGroup shows a group's members, filtered by status, and its public details.
func (s networkPages) facilitateGroup(w http.ResponseWriter, r *http.Request) {
	p := &facilitateGroupView{}
	if r.URL.Query().Get("done") == "saved" {
		p.Banner = "Your changes have been saved"
	}
	s.renderFacilitateGroup(w, r, http.StatusOK, p)
}

func (s networkPages) renderFacilitateGroup(w http.ResponseWriter, r *http.Request, status int, p *facilitateGroupView) {
	c := caller(r)
	g, err := s.svc.GroupForEdit(r.Context(), c, r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.MailDomain = s.GroupsMailDomain
	filter := pg.Status(r.URL.Query().Get("status"))
	if filter == "" {
		filter = pg.StatusConfirmed
	}
	members, err := s.svc.MembersPageAt(r.Context(), c, g.ID, filter, r.URL.Query().Get("page"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Errors == nil {
		p.Group = g
	}
	rounds, err := s.svc.Rounds(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Members, p.Status, p.Rounds = g.Name, members.Rows, string(filter), rounds
	p.MembersPage = members
	p.Group.ID, p.Group.Name = g.ID, g.Name
	s.render(w, r, status, "facilitate-group", p)
}

func (s networkPages) facilitateUpdate(w http.ResponseWriter, r *http.Request) {
	g, errs := decodeFacilitatorEdit(values(r), pg.Group{ID: r.PathValue("group")})
	if len(errs) > 0 {
		s.renderFacilitateGroup(w, r, http.StatusBadRequest, &facilitateGroupView{base: base{Errors: errs}, Group: g})
		return
	}
	err := s.svc.UpdateGroup(r.Context(), caller(r), g, pg.PublicGroupFields)
	if errors.Is(err, pg.ErrGroupChanged) {
		s.groupConflict(w, r, g, "/facilitate/"+url.PathEscape(g.ID))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/facilitate/"+url.PathEscape(g.ID)+"?done=saved", http.StatusSeeOther)
}

// membersCSV downloads a group's members. Cells that a spreadsheet would run as a
// formula are neutralised. A large group's list is more than a Lambda function may
// answer (6 MB, buffered), so the file is written to the exports bucket and the browser
// is sent to a link that fetches it and stops working after a few minutes.
func (s networkPages) membersCSV(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	g, err := s.svc.Group(r.Context(), r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := g.ID
	filter := pg.Status(r.URL.Query().Get("status"))
	if filter == "" {
		filter = pg.StatusConfirmed
	}
	members, err := s.svc.Members(r.Context(), c, id, filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	out := csv.NewWriter(&buf)
	out.Write([]string{"Email address", "Name", "Council", "Organisation", "Job title", "Status", "Joined", "Left"})
	for _, m := range members {
		out.Write([]string{
			SafeCell(m.Email), SafeCell(m.Name), SafeCell(m.Council), SafeCell(m.Organisation), SafeCell(m.JobTitle),
			string(m.Status), dateOf(m.JoinedAt), dateOf(m.LeftAt),
		})
	}
	out.Flush()
	if err := out.Error(); err != nil {
		s.fail(w, r, fmt.Errorf("write members CSV of %s: %w", id, err))
		return
	}
	link, err := s.Exports.Put(r.Context(), "members/"+id, "text/csv; charset=utf-8", id+"-"+string(filter)+"-members.csv", buf.Bytes())
	if err != nil {
		s.fail(w, r, pg.Wrap(pg.KindUnavailable, fmt.Errorf("export members of %s: %w", id, err), "We could not prepare the download just now. Try again in a few minutes."))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link, http.StatusSeeOther)
}

// writeCSV sends rows as a CSV download.
func writeCSV(w http.ResponseWriter, filename string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	out.WriteAll(rows)
}

// SafeCell neutralises a CSV cell that a spreadsheet would read as a formula (one that
// starts with =, +, -, @, a tab or a carriage return) by putting a ' before it.
func SafeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
