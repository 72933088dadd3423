package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// suggestionPages serve the groups' suggestions to a round's core kit: a group's
// facilitators suggest a section of its variant; the core kit's editors accept or
// decline each.
type suggestionPages struct {
	*Server
	svc suggestionService
}

// suggestionService is what these pages, the kit page and the variant page call of
// the domain.
type suggestionService interface {
	Suggest(ctx context.Context, c pg.Caller, round int, group, section string) (pg.KitSuggestion, error)
	Open(ctx context.Context, c pg.Caller, round int) (pg.KitSuggestionsPage, error)
	OpenCount(ctx context.Context, c pg.Caller, round int) (int, error)
	ForGroup(ctx context.Context, c pg.Caller, round int, group string) ([]pg.KitSuggestion, error)
	Accept(ctx context.Context, c pg.Caller, round int, id string) (pg.Kit, pg.KitSuggestion, error)
	Decline(ctx context.Context, c pg.Caller, round int, id, reason string) (pg.KitSuggestion, error)
}

// suggestionsPath is the address of a round's suggestions to its core kit.
func suggestionsPath(round int) string { return kitPath(round) + "/suggestions" }

// kitSuggestionsView is a round's open suggestions, section by section.
type kitSuggestionsView struct {
	base
	Page     pg.KitSuggestionsPage
	Sections []suggestionSectionView
	Path     string
	// Declining is the suggestion whose decline form was sent with a problem, and
	// Reason what it said.
	Declining, Reason string
}

// suggestionSectionView is a section with the suggestions for it.
type suggestionSectionView struct {
	ID, Title   string
	Suggestions []suggestionView
}

// suggestionView is one suggestion, the words it changes marked.
type suggestionView struct {
	pg.KitSuggestionView
	Fields []fieldChangeView
}

// suggestionsPage lists the open suggestions to a round's core kit.
func (s suggestionPages) suggestionsPage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	banner := map[string]string{
		"accepted": "The suggestion has been taken into the core kit",
		"declined": "The suggestion has been declined: the group can see your reason",
	}[r.URL.Query().Get("done")]
	s.renderSuggestions(w, r, http.StatusOK, n, &kitSuggestionsView{base: base{Banner: banner}})
}

func (s suggestionPages) renderSuggestions(w http.ResponseWriter, r *http.Request, status, n int, p *kitSuggestionsView) {
	page, err := s.svc.Open(r.Context(), caller(r), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Page, p.Path = page, suggestionsPath(n)
	p.Title = fmt.Sprintf("Round %d core kit: suggestions from groups", n)
	if len(p.Errors) > 0 {
		p.Title = "Error: " + p.Title
	}
	for i, sec := range page.Sections {
		sv := suggestionSectionView{ID: fmt.Sprintf("section-%d", i+1), Title: sec.Title}
		for _, sg := range sec.Suggestions {
			v := suggestionView{KitSuggestionView: sg}
			for _, f := range sg.Fields {
				v.Fields = append(v.Fields, fieldView(f))
			}
			sv.Suggestions = append(sv.Suggestions, v)
		}
		p.Sections = append(p.Sections, sv)
	}
	s.render(w, r, status, "kit-suggestions", p)
}

// suggest offers a section of a group's variant to the core kit.
func (s suggestionPages) suggest(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group, section := r.PathValue("group"), r.PathValue("section")
	if !pg.ValidSectionID(section) {
		s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such section in the kit."))
		return
	}
	if _, err := s.svc.Suggest(r.Context(), caller(r), n, group, section); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s?done=suggested#%s", variantPath(n, group), section), http.StatusSeeOther)
}

// accept takes a suggestion into the core kit: a clash with the core kit's changes
// since shows the section's conflict page, with the suggested text, so nothing is lost.
func (s suggestionPages) accept(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, sg, err := s.svc.Accept(r.Context(), caller(r), n, r.PathValue("id"))
	if conflict, ok := errors.AsType[*pg.KitConflict](err); ok {
		kitPages{Server: s.Server}.renderSection(w, r, http.StatusConflict, &sectionView{
			base: base{Errors: pg.FieldErrors{{Field: "body", Message: "The core kit has changed this section since the group made its change. Compare the texts, then save the section as it should be"}}},
			Kit:  conflict.Head, Section: sg.Section, Note: fmt.Sprintf("Took %s’s suggested change", sg.Group), From: conflict.Head.Revision, Clashes: conflict.Clashes,
			New: !conflictHas(conflict, sg.Section.ID),
		})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, suggestionsPath(n)+"?done=accepted", http.StatusSeeOther)
}

// conflictHas reports whether the kit as it is now has the section.
func conflictHas(c *pg.KitConflict, id string) bool {
	_, ok := c.Head.Doc.Section(id)
	return ok
}

// decline records a suggestion as declined, with the reason given (optional).
func (s suggestionPages) decline(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, reason := r.PathValue("id"), paragraph(values(r), "reason")
	_, err = s.svc.Decline(r.Context(), caller(r), n, id, reason)
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		for i := range fe {
			fe[i].Field = "reason-" + id
		}
		s.renderSuggestions(w, r, http.StatusBadRequest, n, &kitSuggestionsView{base: base{Errors: fe}, Declining: id, Reason: reason})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, suggestionsPath(n)+"?done=declined", http.StatusSeeOther)
}

// openSuggestions counts the open suggestions to a round's core kit, for the kit page:
// 0 when the service is not there.
func (s *Server) openSuggestions(ctx context.Context, c pg.Caller, round int) (int, error) {
	if s.KitSuggestions == nil {
		return 0, nil
	}
	return s.KitSuggestions.OpenCount(ctx, c, round)
}

// groupSuggestion is a suggestion a group made, as its variant page shows it.
type groupSuggestion struct {
	pg.KitSuggestion
	Status, Tag string // in words, and the tag's colour
}

// groupSuggestions lists a group's suggestions to the core kit with their outcomes,
// for its variant page (its facilitators).
func (s *Server) groupSuggestions(ctx context.Context, c pg.Caller, round int, group string) ([]groupSuggestion, error) {
	if s.KitSuggestions == nil {
		return nil, nil
	}
	all, err := s.KitSuggestions.ForGroup(ctx, c, round, group)
	if err != nil {
		return nil, err
	}
	out := make([]groupSuggestion, len(all))
	for i, sg := range all {
		out[i] = groupSuggestion{KitSuggestion: sg}
		switch sg.Status {
		case pg.SuggestionAccepted:
			out[i].Status, out[i].Tag = "Accepted", "govuk-tag--green"
		case pg.SuggestionDeclined:
			out[i].Status, out[i].Tag = "Declined", "govuk-tag--red"
		default:
			out[i].Status, out[i].Tag = "Waiting for an answer", "govuk-tag--blue"
		}
	}
	return out, nil
}
