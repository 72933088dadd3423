package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/DataDog/datadog-agent/pkg/template/html"
	"net/http"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitPages serve a round's core kit: any facilitator and admins write it.
type kitPages struct {
	*Server
	svc kitService
}

// kitService is what these pages call of the domain.
type kitService interface {
	CoreKit(ctx context.Context, c pg.Caller, round int) (pg.Kit, error)
	CreateCoreKit(ctx context.Context, c pg.Caller, round int, d pg.KitDoc) (pg.Kit, error)
	SaveSection(ctx context.Context, c pg.Caller, round int, from string, s pg.KitSection, note string) (pg.Kit, error)
	History(ctx context.Context, c pg.Caller, round int) (pg.Kit, []pg.KitRevision, error)
	SaveAgenda(ctx context.Context, c pg.Caller, round int, from string, rows []pg.AgendaRow, note string) (pg.Kit, error)
	RunSheet(ctx context.Context, c pg.Caller, round int, group, view string) (pg.RunSheet, error)
}

// kitPath is the address of a round's core kit.
func kitPath(round int) string { return fmt.Sprintf("/kits/%d", round) }

// kitFormView is the form that creates a round's core kit.
type kitFormView struct {
	base
	Round    int
	Form     map[string][]string
	Licences []string
}

// kitView is a round's core kit, its sections rendered.
type kitView struct {
	base
	Kit      pg.Kit
	Sections []renderedSection
	Tasks    []pg.KitTask // what is left to do (kits_agenda.go)
	Left     int          // how many of the tasks are not done

	Suggestions int // open suggestions from groups (kits_suggestions.go)
}

// renderedSection is a section with its Markdown as safe HTML, or, when that could
// not be made just now, as the paragraphs it was written in.
type renderedSection struct {
	pg.KitSection
	HTML template.HTML
}

// Paragraphs is the section's text as written, split at its blank lines.
func (s renderedSection) Paragraphs() []string {
	var ps []string
	for _, p := range strings.Split(s.Body, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// sectionView is the form of one section: to edit it, to add one, or, after a clash
// with someone else's save, to save it again over the new head (Clashes).
type sectionView struct {
	base
	Kit      pg.Kit
	New      bool
	Action   string
	Section  pg.KitSection // the person's text: what they are editing or sent
	Note     string
	From     string
	Clashes  []pg.KitClash
	Kinds    []string
	Audience []string
	// Name is the kit's name ("core kit", "London’s version"), Back its page (whose
	// sections the form's action is under) and Caption the page's caption: the core
	// kit's when empty.
	Name, Back, Caption string
}

// kitHistoryView lists a kit's revisions.
type kitHistoryView struct {
	base
	Kit       pg.Kit
	Revisions []pg.KitRevision
	Compare   compareForm // the revisions its compare form asked for, when it had a problem
}

// kitPage shows the round's core kit, or the form that creates it when there is none.
func (s kitPages) kitPage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, err := s.svc.CoreKit(r.Context(), caller(r), n)
	if pg.KindOf(err) == pg.KindNotFound && kit.Round.Number == n {
		s.render(w, r, http.StatusOK, "kit-form", &kitFormView{base: base{Title: fmt.Sprintf("Round %d: create the core kit", n)}, Round: n, Licences: pg.Licences})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &kitView{base: base{Title: fmt.Sprintf("Round %d core kit: %s", n, kit.Doc.Title), Banner: map[string]string{"saved": "Your changes have been saved", "merged": "Your changes have been saved, together with changes someone else saved meanwhile", "created": "The core kit has been created"}[r.URL.Query().Get("done")]}, Kit: kit}
	for _, sec := range kit.Doc.Sections {
		p.Sections = append(p.Sections, renderedSection{KitSection: sec, HTML: template.HTML(kit.HTML[sec.ID])}) // made safe by the render function
	}
	if err := s.kitTasks(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Suggestions, err = s.openSuggestions(r.Context(), caller(r), n); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "kit", p)
}

// kitCreate makes a round's core kit.
func (s kitPages) kitCreate(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, errs := decodeKit(values(r))
	if len(errs) == 0 {
		_, err = s.svc.CreateCoreKit(r.Context(), caller(r), n, d)
		if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
			errs = fe
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "kit-form", &kitFormView{base: base{Title: fmt.Sprintf("Round %d: create the core kit", n), Errors: errs}, Round: n, Form: values(r), Licences: pg.Licences})
		return
	}
	http.Redirect(w, r, kitPath(n)+"?done=created", http.StatusSeeOther)
}

// sectionForm shows a section's form, or an empty one for a new section.
func (s kitPages) sectionForm(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, err := s.svc.CoreKit(r.Context(), caller(r), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &sectionView{Kit: kit, From: kit.Revision}
	if id := r.PathValue("section"); id != "" {
		sec, ok := kit.Doc.Section(id)
		if !ok {
			s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such section in the kit."))
			return
		}
		p.Section = sec
	} else {
		p.New = true
		p.Section = pg.KitSection{Kind: pg.SectionHandout, Audience: pg.AudienceParticipant}
	}
	s.renderSection(w, r, http.StatusOK, p)
}

func (s kitPages) renderSection(w http.ResponseWriter, r *http.Request, status int, p *sectionView) {
	p.Kinds, p.Audience = pg.SectionKinds, pg.Audiences
	n := p.Kit.Round.Number
	if p.Back == "" {
		p.Name, p.Back = "core kit", kitPath(n)
	}
	p.Caption = fmt.Sprintf("Round %d %s: %s", n, p.Name, p.Kit.Doc.Title)
	switch {
	case len(p.Clashes) > 0:
		p.Title = "Someone else changed this section"
	case p.New:
		p.Title = fmt.Sprintf("Round %d %s: add a section", n, p.Name)
	default:
		p.Title = fmt.Sprintf("Round %d %s: edit %s", n, p.Name, p.Section.Title)
	}
	if p.New {
		p.Action = p.Back + "/sections"
	} else {
		p.Action = p.Back + "/sections/" + p.Section.ID
	}
	s.render(w, r, status, "kit-section", p)
}

// sectionSave saves a section (or adds one): merged with others' saves meanwhile, or,
// when both changed the same thing, shown again with both texts so nothing is lost.
func (s kitPages) sectionSave(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, isNew := r.PathValue("section"), false
	if id == "" {
		id, isNew = pg.NewSectionID(), true
		if v := text(values(r), "id"); pg.ValidSectionID(v) {
			id = v // a new section sent again after a clash keeps its ID
		}
	} else if !pg.ValidSectionID(id) {
		s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such section in the kit."))
		return
	}
	f, errs := decodeSection(values(r), id)
	c := caller(r)
	if len(errs) > 0 {
		kit, err := s.svc.CoreKit(r.Context(), c, n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderSection(w, r, http.StatusBadRequest, &sectionView{base: base{Errors: errs}, Kit: kit, New: isNew, Section: f.Section, Note: f.Note, From: f.From})
		return
	}
	kit, err := s.svc.SaveSection(r.Context(), c, n, f.From, f.Section, f.Note)
	if conflict, ok := errors.AsType[*pg.KitConflict](err); ok {
		s.renderSection(w, r, http.StatusConflict, &sectionView{
			base: base{Errors: pg.FieldErrors{{Field: "body", Message: "Someone else changed this section while you were editing it. Compare the texts, then save yours again"}}},
			Kit:  conflict.Head, New: isNew, Section: f.Section, Note: f.Note, From: conflict.Head.Revision, Clashes: conflict.Clashes,
		})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done := "saved"
	if kit.Head.Parent != f.From {
		done = "merged"
	}
	http.Redirect(w, r, fmt.Sprintf("%s?done=%s#%s", kitPath(n), done, id), http.StatusSeeOther)
}

// kitHistory lists the kit's revisions: who saved each, when, and why.
func (s kitPages) kitHistory(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, revs, err := s.svc.History(r.Context(), caller(r), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "kit-history", &kitHistoryView{base: base{Title: fmt.Sprintf("Round %d core kit: history", n)}, Kit: kit, Revisions: revs})
}
