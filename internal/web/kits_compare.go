package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitComparePages compare two revisions of a round's kits: of the core kit, picked on
// its history page, or of two kits (a variant and its parent) named in the address.
type kitComparePages struct {
	*Server
	svc kitCompareService
}

// kitCompareService is what the compare page calls of the domain.
type kitCompareService interface {
	History(ctx context.Context, c pg.Caller, round int) (pg.Kit, []pg.KitRevision, error)
	Compare(ctx context.Context, c pg.Caller, round int, from, to pg.KitRef) (pg.KitRevisionsCompared, error)
}

// compareForm is what the history page's compare form asked for: the revisions (by
// hash) to compare.
type compareForm struct{ From, To string }

// kitCompareView is a comparison of two revisions: what changed, section by section,
// with the unchanged sections folded away.
type kitCompareView struct {
	base
	Round              int
	History            string // the history page of the later revision's kit
	From, To           comparedSide
	Summary            []string // what changed, in words
	Same               bool
	KitFields          []fieldChangeView
	Changes            []sectionChangeView
	Unchanged          []sectionChangeView
	UnchangedHeadline  string
	FromKit, ToKit     string // "core kit", "london version"
	KitTitle, Caption  string
	DifferentKits      bool
	ComparedRevisions  string // "revision 3 with revision 5"
	AddedRemovedLegend bool
}

// comparedSide is one revision of the comparison, as the page describes it.
type comparedSide struct {
	Label string // "Revision 3 of the core kit"
	pg.KitRevision
}

// sectionChangeView is one section that changed (or did not).
type sectionChangeView struct {
	Anchor          string
	Title           string
	Kind            string // for a section added or removed, whose fields are not listed
	Status          pg.SectionStatus
	Moved           bool
	FacilitatorOnly bool
	Fields          []fieldChangeView
}

// fieldChangeView is one field that changed, its words marked.
type fieldChangeView struct {
	Label  string
	Pieces []markedPiece
}

// markedPiece is a run of text kept, added or removed, in lines (a <br> between each),
// or, when Skipped > 0, a line that stands for that many unchanged lines not shown
// (with a line break before it unless it starts the text, and after it unless it ends
// it).
type markedPiece struct {
	Added, Removed          bool
	Lines                   []string
	Skipped                 int
	BreakBefore, BreakAfter bool
	Spaced                  bool // added words right after removed ones: a space between, to read
}

// kitCompare shows what changed between two revisions: ?from=<hash>&to=<hash>, of the
// core kit unless fromkit or tokit name another of the round's kits.
func (s kitComparePages) kitCompare(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	from := pg.KitRef{Kit: kitParam(q.Get("fromkit")), Hash: strings.TrimSpace(q.Get("from"))}
	to := pg.KitRef{Kit: kitParam(q.Get("tokit")), Hash: strings.TrimSpace(q.Get("to"))}
	var errs pg.FieldErrors
	if from.Hash == "" {
		errs = append(errs, pg.FieldError{Field: "from", Message: "Select the revision to compare from"})
	}
	if to.Hash == "" {
		errs = append(errs, pg.FieldError{Field: "to", Message: "Select the revision to compare it with"})
	}
	c := caller(r)
	if len(errs) > 0 {
		// Asked from the history page's form: show it again with the problem.
		kit, revs, err := s.svc.History(r.Context(), c, n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "kit-history", &kitHistoryView{base: base{Title: fmt.Sprintf("Round %d core kit: history", n), Errors: errs}, Kit: kit, Revisions: revs, Compare: compareForm{From: from.Hash, To: to.Hash}})
		return
	}
	cmp, err := s.svc.Compare(r.Context(), c, n, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "kit-compare", compareView(cmp))
}

// kitParam is the kit a compare address names: the core kit unless it says another.
func kitParam(v string) string {
	if v = strings.TrimSpace(v); v == "" {
		return pg.CoreKit
	}
	return v
}

// compareView describes a comparison for its page.
func compareView(c pg.KitRevisionsCompared) *kitCompareView {
	side := func(s pg.ComparedRevision) comparedSide {
		return comparedSide{Label: fmt.Sprintf("Revision %d of %s", s.Revision.Number, pg.KitLabel(s.Kit)), KitRevision: s.Revision}
	}
	v := &kitCompareView{
		Round: c.Round.Number, History: fmt.Sprintf("%s/history", kitPath(c.Round.Number)),
		From: side(c.From), To: side(c.To), Same: c.Same(), KitTitle: c.To.Doc.Title,
		DifferentKits: c.From.Kit != c.To.Kit,
	}
	if v.DifferentKits {
		v.ComparedRevisions = fmt.Sprintf("%s (revision %d) with %s (revision %d)", pg.KitLabel(c.From.Kit), c.From.Revision.Number, pg.KitLabel(c.To.Kit), c.To.Revision.Number)
	} else {
		v.ComparedRevisions = fmt.Sprintf("revision %d with revision %d", c.From.Revision.Number, c.To.Revision.Number)
	}
	v.Title = fmt.Sprintf("Round %d: compare %s", c.Round.Number, v.ComparedRevisions)
	for _, f := range c.Fields {
		v.KitFields = append(v.KitFields, fieldView(f))
		v.Summary = append(v.Summary, "The kit’s "+fieldLabels[f.Field]+" changed")
	}
	for _, s := range []struct {
		n    int
		what string
	}{{c.Changed, "changed"}, {c.Added, "added"}, {c.Removed, "removed"}, {c.Moved, "moved"}} {
		if s.n > 0 {
			v.Summary = append(v.Summary, sections(s.n)+" "+s.what)
		}
	}
	for i, s := range c.Sections {
		sv := sectionChangeView{Anchor: "section-" + strconv.Itoa(i+1), Title: s.Title(), Status: s.Status, Moved: s.Moved, FacilitatorOnly: s.From.FacilitatorOnly() || s.To.FacilitatorOnly()}
		if sv.Title == "" {
			sv.Title = "Untitled section"
		}
		for _, f := range s.Fields {
			if (s.Status == pg.SectionAdded || s.Status == pg.SectionRemoved) && f.Field != "body" {
				continue // its title is the heading, its kind and audience the tags
			}
			sv.Fields = append(sv.Fields, fieldView(f))
		}
		if s.Status == pg.SectionAdded || s.Status == pg.SectionRemoved {
			sv.Kind = choiceWords("kind", s.To.Kind+s.From.Kind) // one of them is empty
		}
		if s.Status == pg.SectionUnchanged {
			v.Unchanged = append(v.Unchanged, sv)
		} else {
			v.Changes = append(v.Changes, sv)
		}
	}
	v.UnchangedHeadline = sections(len(v.Unchanged)) + " unchanged"
	if len(v.Unchanged) > 0 && !v.Same {
		v.Summary = append(v.Summary, v.UnchangedHeadline)
	}
	return v
}

// sections counts sections in words: "1 section", "3 sections".
func sections(n int) string {
	if n == 1 {
		return "1 section"
	}
	return strconv.Itoa(n) + " sections"
}

// fieldLabels name the fields of a kit and of a section as their forms do.
var fieldLabels = map[string]string{
	"title": "title", "summary": "summary", "licence": "licence",
	"kind": "kind of section", "audience": "who it is for", "body": "content",
}

// choiceWords says a field's chosen value in words.
func choiceWords(field, value string) string {
	switch field {
	case "licence":
		return pg.LicenceName(value)
	case "audience":
		if value == pg.AudienceFacilitator {
			return "Facilitators only"
		}
		if value == pg.AudienceParticipant {
			return "Participants (and facilitators)"
		}
	case "kind":
		if value != "" {
			return strings.ToUpper(value[:1]) + value[1:]
		}
	}
	return value
}

// contextLines is how many unchanged lines are shown on each side of a change in a
// long text; the lines between are counted, not shown.
const contextLines = 2

// minSkipped is the fewest unchanged lines worth folding away.
const minSkipped = 4

// fieldView marks a field's changed words, and folds long unchanged stretches.
func fieldView(f pg.FieldChange) fieldChangeView {
	label := fieldLabels[f.Field]
	fv := fieldChangeView{Label: strings.ToUpper(label[:1]) + label[1:]}
	for i, p := range f.Pieces {
		text := p.Text
		if f.Field == "kind" || f.Field == "audience" || f.Field == "licence" {
			text = choiceWords(f.Field, text)
		}
		lines := strings.Split(text, "\n")
		if p.Op != pg.DiffSame {
			spaced := p.Op == pg.DiffAdded && i > 0 && f.Pieces[i-1].Op == pg.DiffRemoved
			fv.Pieces = append(fv.Pieces, markedPiece{Added: p.Op == pg.DiffAdded, Removed: p.Op == pg.DiffRemoved, Lines: lines, Spaced: spaced})
			continue
		}
		first, last := i == 0, i == len(f.Pieces)-1
		keepBefore, keepAfter := contextLines+1, contextLines+1 // a piece's first line ends a changed line
		if first {
			keepBefore = 0
		}
		if last {
			keepAfter = 0
		}
		skipped := len(lines) - keepBefore - keepAfter
		if skipped < minSkipped || first && last {
			fv.Pieces = append(fv.Pieces, markedPiece{Lines: lines})
			continue
		}
		if keepBefore > 0 {
			fv.Pieces = append(fv.Pieces, markedPiece{Lines: lines[:keepBefore]})
		}
		fv.Pieces = append(fv.Pieces, markedPiece{Skipped: skipped, BreakBefore: !first, BreakAfter: !last})
		if keepAfter > 0 {
			fv.Pieces = append(fv.Pieces, markedPiece{Lines: lines[len(lines)-keepAfter:]})
		}
	}
	return fv
}
