package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/DataDog/datadog-agent/pkg/template/html"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// variantPages serve the groups' variants of a round's kit: the group's facilitators
// (and admins) write it, any facilitator reads it, the group's members read its
// sections for participants; and the lineage map, for admins.
type variantPages struct {
	*Server
	svc variantService
}

// variantService is what these pages call of the domain.
type variantService interface {
	Variant(ctx context.Context, c pg.Caller, round int, group string) (pg.KitVariant, error)
	Choices(ctx context.Context, c pg.Caller, round int, group string) ([]pg.KitChoice, error)
	CreateVariant(ctx context.Context, c pg.Caller, round int, group, from string) error
	SaveVariantSection(ctx context.Context, c pg.Caller, round int, group, from string, s pg.KitSection, note string) (pg.Kit, error)
	VariantHistory(ctx context.Context, c pg.Caller, round int, group string) (pg.KitVariant, []pg.KitVariantRevision, error)
	Merge(ctx context.Context, c pg.Caller, round int, group string) (pg.KitMergeState, error)
	AnswerMerge(ctx context.Context, c pg.Caller, round int, group, ours, theirs string, answers []pg.KitMergeAnswer, finish bool) (pg.KitMergeState, error)
	AbandonMerge(ctx context.Context, c pg.Caller, round int, group string) error
	LineageMap(ctx context.Context, c pg.Caller, round int) (pg.KitLineageMap, error)
	CoreForParticipants(ctx context.Context, c pg.Caller, round int) (pg.Kit, string, error)
	SaveVariantAgenda(ctx context.Context, c pg.Caller, round int, group, from string, rows []pg.AgendaRow, note string) (pg.Kit, error)
}

// variantPath is the address of a group's variant of a round's kit.
func variantPath(round int, group string) string {
	return fmt.Sprintf("/kits/%d/groups/%s", round, url.PathEscape(group))
}

// variantView is a group's variant, its sections rendered, each saying where it comes
// from; or, when the group has none yet, the kits it may start from (Choices).
type variantView struct {
	base
	V        pg.KitVariant
	Path     string
	Sections []variantSection
	Choices  []pg.KitChoice
	New      bool

	Suggestions []groupSuggestion // the group's suggestions to the core kit (kits_suggestions.go)
	HasEvent    bool              // the group has its event for the round: the run sheet can be timed
}

// variantSection is a section of a variant with where it comes from, in words.
type variantSection struct {
	renderedSection
	Origin  string
	Changed bool
}

// BehindText is "London has made 2 changes since you copied it".
func (v variantView) BehindText() string {
	since := "since you copied it"
	if v.V.Lineage.BaseHash != v.V.Lineage.CopiedHash {
		since = "since you last brought its changes in"
	}
	n := "1 change"
	if v.V.Behind != 1 {
		n = strconv.Itoa(v.V.Behind) + " changes"
	}
	if v.V.Lineage.Parent == pg.CoreKit {
		return fmt.Sprintf("The core kit has had %s %s", n, since)
	}
	return fmt.Sprintf("%s has made %s %s", v.V.ParentShort, n, since)
}

// variantPage shows a group's variant (to a member, its sections for participants
// only), or, to its facilitators when it has none, the kits it may start from.
func (s variantPages) variantPage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group, c := r.PathValue("group"), caller(r)
	v, err := s.svc.Variant(r.Context(), c, n, group)
	if errors.Is(err, pg.ErrNoVariant) && v.CanWrite {
		choices, err := s.svc.Choices(r.Context(), c, n, group)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "kit-variant-new", &variantView{base: base{Title: fmt.Sprintf("Round %d: %s version of the kit", n, pg.Possessive(v.Group.Name))}, V: v, Path: variantPath(n, group), Choices: choices, New: true})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	banner := map[string]string{
		"created":   "Your group’s version of the kit has been made",
		"saved":     "Your changes have been saved",
		"merged":    "Your changes have been saved, together with changes someone else saved meanwhile",
		"brought":   "The changes have been brought in",
		"abandoned": "You have abandoned bringing in the changes: your version is as it was",
		"suggested": "Your change has been suggested to the core kit",
	}[r.URL.Query().Get("done")]
	p := &variantView{base: base{Title: fmt.Sprintf("Round %d: %s version: %s", n, pg.Possessive(v.Group.Name), v.Doc.Title), Banner: banner}, V: v, Path: variantPath(n, group)}
	for _, sec := range v.Doc.Sections {
		vs := variantSection{renderedSection: renderedSection{KitSection: sec, HTML: template.HTML(v.HTML[sec.ID])}} // made safe by the render function
		switch v.Origins[sec.ID] {
		case pg.OriginInherited:
			vs.Origin = "From " + v.ParentName
		case pg.OriginAdded:
			vs.Origin, vs.Changed = "Added here", true
		default:
			vs.Origin, vs.Changed = "Changed here", true
		}
		p.Sections = append(p.Sections, vs)
	}
	if v.CanWrite {
		if p.Suggestions, err = s.groupSuggestions(r.Context(), c, n, group); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !v.Participant {
		_, events, err := s.Rounds.Round(r.Context(), n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.HasEvent = slices.ContainsFunc(events, func(e pg.Event) bool { return e.GroupID == group })
	}
	s.render(w, r, http.StatusOK, "kit-variant", p)
}

// variantCreate makes a group's variant from the kit chosen (the button pressed).
func (s variantPages) variantCreate(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group, c := r.PathValue("group"), caller(r)
	err = s.svc.CreateVariant(r.Context(), c, n, group, text(values(r), "from"))
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		v, verr := s.svc.Variant(r.Context(), c, n, group)
		if verr != nil && !errors.Is(verr, pg.ErrNoVariant) {
			s.fail(w, r, verr)
			return
		}
		choices, cerr := s.svc.Choices(r.Context(), c, n, group)
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		s.render(w, r, http.StatusBadRequest, "kit-variant-new", &variantView{base: base{Title: fmt.Sprintf("Round %d: %s version of the kit", n, pg.Possessive(v.Group.Name)), Errors: fe}, V: v, Path: variantPath(n, group), Choices: choices, New: true})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, variantPath(n, group)+"?done=created", http.StatusSeeOther)
}

// sectionPage is the section form of a variant, the core kit's form.
func (s variantPages) sectionPage(v pg.KitVariant, p *sectionView) *sectionView {
	p.Kit = v.Kit
	p.Name = pg.Possessive(v.Group.Name) + " version"
	p.Back = variantPath(v.Round.Number, v.Group.ID)
	return p
}

// sectionForm shows a section of a variant to edit, or an empty one to add.
func (s variantPages) sectionForm(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.svc.Variant(r.Context(), caller(r), n, r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &sectionView{From: v.Revision}
	if id := r.PathValue("section"); id != "" {
		sec, ok := v.Doc.Section(id)
		if !ok {
			s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such section in the kit."))
			return
		}
		p.Section = sec
	} else {
		p.New = true
		p.Section = pg.KitSection{Kind: pg.SectionHandout, Audience: pg.AudienceParticipant}
	}
	kitPages{Server: s.Server}.renderSection(w, r, http.StatusOK, s.sectionPage(v, p))
}

// sectionSave saves a section of a variant, as the core kit's are saved.
func (s variantPages) sectionSave(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group, c := r.PathValue("group"), caller(r)
	id, isNew := r.PathValue("section"), false
	if id == "" {
		id, isNew = pg.NewSectionID(), true
		if v := text(values(r), "id"); pg.ValidSectionID(v) {
			id = v
		}
	} else if !pg.ValidSectionID(id) {
		s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such section in the kit."))
		return
	}
	f, errs := decodeSection(values(r), id)
	pages := kitPages{Server: s.Server}
	if len(errs) > 0 {
		v, err := s.svc.Variant(r.Context(), c, n, group)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pages.renderSection(w, r, http.StatusBadRequest, s.sectionPage(v, &sectionView{base: base{Errors: errs}, New: isNew, Section: f.Section, Note: f.Note, From: f.From}))
		return
	}
	kit, err := s.svc.SaveVariantSection(r.Context(), c, n, group, f.From, f.Section, f.Note)
	if conflict, ok := errors.AsType[*pg.KitConflict](err); ok {
		v, verr := s.svc.Variant(r.Context(), c, n, group)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		p := s.sectionPage(v, &sectionView{
			base: base{Errors: pg.FieldErrors{{Field: "body", Message: "Someone else changed this section while you were editing it. Compare the texts, then save yours again"}}},
			New:  isNew, Section: f.Section, Note: f.Note, From: conflict.Head.Revision, Clashes: conflict.Clashes,
		})
		p.Kit = conflict.Head
		pages.renderSection(w, r, http.StatusConflict, p)
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
	http.Redirect(w, r, fmt.Sprintf("%s?done=%s#%s", variantPath(n, group), done, id), http.StatusSeeOther)
}

// variantHistoryView lists a variant's revisions, merges with the revision they
// brought in.
type variantHistoryView struct {
	base
	V         pg.KitVariant
	Path      string
	Revisions []pg.KitVariantRevision
}

// history lists a variant's revisions.
func (s variantPages) history(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group := r.PathValue("group")
	v, revs, err := s.svc.VariantHistory(r.Context(), caller(r), n, group)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "kit-variant-history", &variantHistoryView{base: base{Title: fmt.Sprintf("Round %d: %s version: history", n, pg.Possessive(v.Group.Name))}, V: v, Path: variantPath(n, group), Revisions: revs})
}

// mergeView is the form that brings a parent's changes into a variant: one question a
// clash.
type mergeView struct {
	base
	State pg.KitMergeState
	Path  string
	Stale bool // the form sent was for older revisions
}

// Choice is the answer chosen for question i.
func (m mergeView) Choice(i int) string { return m.State.Questions[i].Answer.Choice }

func (s variantPages) renderMerge(w http.ResponseWriter, r *http.Request, status int, p *mergeView) {
	v := p.State.Variant
	p.Path = variantPath(v.Round.Number, v.Group.ID)
	p.Title = fmt.Sprintf("Round %d: bring %s changes into %s version", v.Round.Number, pg.Possessive(v.ParentShort), pg.Possessive(v.Group.Name))
	if v.Lineage.Parent == pg.CoreKit {
		p.Title = fmt.Sprintf("Round %d: bring the core kit’s changes into %s version", v.Round.Number, pg.Possessive(v.Group.Name))
	}
	if len(p.Errors) > 0 {
		p.Title = "Error: " + p.Title
	}
	s.render(w, r, status, "kit-merge", p)
}

// mergePage shows the merge of the parent's changes: what merges, and each clash as a
// question, with the answers given so far.
func (s variantPages) mergePage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.Merge(r.Context(), caller(r), n, r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderMerge(w, r, http.StatusOK, &mergeView{State: st})
}

// maxMergeQuestions bounds the questions read from a merge's form.
const maxMergeQuestions = 2000

// decodeMergeAnswers reads a merge's form: for each question i, key-i, texts-i,
// choice-i and own-i.
func decodeMergeAnswers(v url.Values) []pg.KitMergeAnswer {
	var out []pg.KitMergeAnswer
	for i := range maxMergeQuestions {
		k := strconv.Itoa(i)
		key, ok := v["key-"+k]
		if !ok || len(key) == 0 {
			break
		}
		own := ""
		if o := v["own-"+k]; len(o) > 0 {
			own = o[0]
		}
		if choice := text(v, "choice-"+k); choice != "" {
			out = append(out, pg.KitMergeAnswer{Key: key[0], Texts: text(v, "texts-"+k), Choice: choice, Own: own})
		}
	}
	return out
}

// mergeAnswer keeps the answers sent, and with "finish", makes the merge revision.
func (s variantPages) mergeAnswer(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group, form := r.PathValue("group"), values(r)
	finish := text(form, "action") == "finish"
	st, err := s.svc.AnswerMerge(r.Context(), caller(r), n, group, text(form, "ours"), text(form, "theirs"), decodeMergeAnswers(form), finish)
	if errors.Is(err, pg.ErrMergeStale) {
		s.renderMerge(w, r, http.StatusConflict, &mergeView{State: st, Stale: true})
		return
	}
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		s.renderMerge(w, r, http.StatusBadRequest, &mergeView{base: base{Errors: fe}, State: st})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case st.UpToDate:
		http.Redirect(w, r, variantPath(n, group), http.StatusSeeOther)
	case finish:
		http.Redirect(w, r, variantPath(n, group)+"?done=brought", http.StatusSeeOther)
	default:
		s.renderMerge(w, r, http.StatusOK, &mergeView{base: base{Banner: "Your answers have been saved. You can come back to finish bringing the changes in"}, State: st})
	}
}

// mergeAbandon forgets a merge in progress.
func (s variantPages) mergeAbandon(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	group := r.PathValue("group")
	if err := s.svc.AbandonMerge(r.Context(), caller(r), n, group); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, variantPath(n, group)+"?done=abandoned", http.StatusSeeOther)
}

// lineageView is a round's lineage map.
type lineageView struct {
	base
	Map pg.KitLineageMap
}

// lineagePage shows which group's variant came from which, how far behind each is,
// and the core sections several groups have changed: admins.
func (s variantPages) lineagePage(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.svc.LineageMap(r.Context(), caller(r), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "kit-lineage", &lineageView{base: base{Title: fmt.Sprintf("Round %d: the kit’s lineage", n)}, Map: m})
}
