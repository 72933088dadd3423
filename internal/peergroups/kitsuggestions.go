// Suggestions to the core kit: a section that a group changed (or added) in its variant,
// offered upstream. The core kit's editors see the open ones section by section, and
// accept one (the section saved into the core kit, merged three ways with what the core
// kit has had since) or decline it, with a reason the group's facilitators read.

package peergroups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A suggestion's states.
const (
	SuggestionOpen     = "open"
	SuggestionAccepted = "accepted"
	SuggestionDeclined = "declined"
)

// KitReasonMax bounds a reason for declining a suggestion.
const KitReasonMax = 1000

// KitSuggestion is a section of a group's variant offered to the round's core kit.
type KitSuggestion struct {
	Round   int
	ID      string // sortable by when it was made
	Group   string // the variant's group
	Section KitSection
	// Core is the core kit's revision the suggestion was made against: the one the
	// variant's lineage is based on, the base of the three-way merge that accepts it.
	Core    KitRevisionRef
	Variant KitRevisionRef // the variant's revision the section was taken from
	By      string
	At      time.Time

	Status    string // SuggestionOpen, SuggestionAccepted, SuggestionDeclined
	DecidedBy string
	DecidedAt time.Time
	Reason    string // why it was declined (optional)
	Accepted  int    // the core kit's revision that took it in
}

// KitSuggestionStore keeps the suggestions to a round's core kit (DynamoDB).
type KitSuggestionStore interface {
	// PutKitSuggestion records a new suggestion with its audit entry.
	PutKitSuggestion(ctx context.Context, s KitSuggestion, a AuditEntry) error
	// KitSuggestions returns a round's suggestions, oldest first.
	KitSuggestions(ctx context.Context, round int) ([]KitSuggestion, error)
	// KitSuggestion returns one; a KindNotFound error when there is none.
	KitSuggestion(ctx context.Context, round int, id string) (KitSuggestion, error)
	// DecideKitSuggestion records a suggestion's outcome (its Status, DecidedBy,
	// DecidedAt, Reason, Accepted) with its audit entry, if it is still open;
	// ErrSuggestionDecided if not.
	DecideKitSuggestion(ctx context.Context, s KitSuggestion, a AuditEntry) error
}

// ErrSuggestionDecided is the error of answering a suggestion already answered.
var ErrSuggestionDecided = &Error{Kind: KindConflict, Message: "Someone has already answered this suggestion."}

// KitSuggestions is the groups' suggestions to the rounds' core kits: a group's
// facilitators (and admins) make them from its variant; the core kit's editors (any
// facilitator, admins) accept or decline them.
type KitSuggestions struct {
	Variants *KitVariants
	Store    KitSuggestionStore
}

// KitSuggestionView is an open suggestion as its page shows it: with the group's name
// and the words that differ between the core kit's section now and the suggested one.
type KitSuggestionView struct {
	KitSuggestion
	GroupName string
	InCore    bool          // the core kit has the section now
	CoreNow   KitSection    // the core kit's section now (when InCore)
	Fields    []FieldChange // what the suggestion changes of it, in the section form's order
}

// KitSuggestionGroup is the open suggestions for one section.
type KitSuggestionGroup struct {
	ID          string // the section's ID
	Title       string // its title in the core kit, or the first suggestion's
	Suggestions []KitSuggestionView
}

// KitSuggestionsPage is a round's open suggestions to its core kit, section by section.
type KitSuggestionsPage struct {
	Kit      Kit
	Sections []KitSuggestionGroup
	Open     int
}

// newSuggestionID is a sortable ID: the time, then random.
func newSuggestionID(at time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	at = at.UTC()
	return fmt.Sprintf("%s%09dz-%s", at.Format("20060102t150405"), at.Nanosecond(), hex.EncodeToString(b))
}

// ValidSuggestionID reports whether s could be a suggestion's ID.
func ValidSuggestionID(s string) bool {
	if s == "" || len(s) > 60 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// coreBase returns the core kit's revision a variant's sections come from: the base
// of its lineage when its parent is the core kit, else of its nearest ancestor's that is.
func (v *KitVariants) coreBase(ctx context.Context, l KitLineage) (KitRevisionRef, error) {
	for range maxLineageDepth {
		if l.Parent == CoreKit {
			return KitRevisionRef{Kit: CoreKit, Number: l.BaseNumber, Hash: l.BaseHash}, nil
		}
		next, err := v.Store.KitLineage(ctx, l.Round, l.Parent)
		if err != nil {
			return KitRevisionRef{}, fmt.Errorf("lineage of %s, an ancestor of a variant: %w", l.Parent, err)
		}
		l = next
	}
	return KitRevisionRef{}, Errorf(KindInternal, "The variant’s lineage is too long to follow.")
}

// Suggest offers a section of a group's variant, as it is at the variant's head, to the
// round's core kit: the group's facilitators and admins. The section must be one the
// group changed or added, and differ from the core kit's now.
func (ks *KitSuggestions) Suggest(ctx context.Context, c Caller, round int, group, section string) (KitSuggestion, error) {
	if !canWriteVariant(c, group) {
		return KitSuggestion{}, ErrForbidden
	}
	v, err := ks.Variants.Variant(ctx, c, round, group)
	if err != nil {
		return KitSuggestion{}, err
	}
	sec, ok := v.Doc.Section(section)
	if !ok {
		return KitSuggestion{}, Errorf(KindNotFound, "There is no such section in %s’s version.", v.Group.Name)
	}
	if o := v.Origins[section]; o != OriginChanged && o != OriginAdded {
		return KitSuggestion{}, Errorf(KindInvalid, "“%s” is as %s has it: there is no change of %s’s to suggest.", sec.Title, v.ParentName, v.Group.Name)
	}
	core, err := ks.Variants.Kits.Store.KitHead(ctx, round, CoreKit)
	if KindOf(err) == KindNotFound {
		return KitSuggestion{}, Errorf(KindInvalid, "Round %d has no core kit to suggest changes to.", round)
	}
	if err != nil {
		return KitSuggestion{}, err
	}
	coreDoc, err := ks.Variants.Kits.doc(ctx, core.Revision.Hash)
	if err != nil {
		return KitSuggestion{}, err
	}
	if now, ok := coreDoc.Section(section); ok && now == sec {
		return KitSuggestion{}, Errorf(KindInvalid, "The core kit already has “%s” as %s has it.", sec.Title, v.Group.Name)
	}
	all, err := ks.Store.KitSuggestions(ctx, round)
	if err != nil {
		return KitSuggestion{}, err
	}
	for _, s := range all {
		if s.Status == SuggestionOpen && s.Group == group && s.Section.ID == section && s.Section == sec {
			return KitSuggestion{}, Errorf(KindConflict, "%s has already suggested “%s” as it is now: the core kit’s editors have not answered yet.", v.Group.Name, sec.Title)
		}
	}
	base, err := ks.Variants.coreBase(ctx, v.Lineage)
	if err != nil {
		return KitSuggestion{}, err
	}
	now := ks.Variants.Kits.Now()
	s := KitSuggestion{Round: round, ID: newSuggestionID(now), Group: group, Section: sec, Core: base,
		Variant: KitRevisionRef{Kit: group, Number: v.Head.Number, Hash: v.Head.Hash}, By: c.Email, At: now, Status: SuggestionOpen}
	a := ks.Variants.Kits.audit(c, "suggest kit change", fmt.Sprintf("%d %s %s", round, group, section), nil,
		map[string]any{"suggestion": s.ID, "section": sec.Title, "variant": v.Head.Hash, "core": base.Hash})
	if err := ks.Store.PutKitSuggestion(ctx, s, a); err != nil {
		return KitSuggestion{}, err
	}
	return s, nil
}

// Open returns a round's open suggestions, section by section in the core kit's order
// (sections the core kit does not have after), each with the words it changes: the
// core kit's editors.
func (ks *KitSuggestions) Open(ctx context.Context, c Caller, round int) (KitSuggestionsPage, error) {
	kit, err := ks.Variants.Kits.CoreKit(ctx, c, round)
	if err != nil {
		return KitSuggestionsPage{Kit: kit}, err
	}
	all, err := ks.Store.KitSuggestions(ctx, round)
	if err != nil {
		return KitSuggestionsPage{Kit: kit}, err
	}
	out := KitSuggestionsPage{Kit: kit}
	bySection := map[string]*KitSuggestionGroup{}
	var order []string
	d := newDiffer()
	for _, s := range all {
		if s.Status != SuggestionOpen {
			continue
		}
		sv := KitSuggestionView{KitSuggestion: s}
		_, sv.GroupName = ks.Variants.parentNames(ctx, s.Group)
		sv.CoreNow, sv.InCore = kit.Doc.Section(s.Section.ID)
		sv.Fields = d.sectionFields(sv.CoreNow, s.Section)
		g, ok := bySection[s.Section.ID]
		if !ok {
			g = &KitSuggestionGroup{ID: s.Section.ID, Title: s.Section.Title}
			if sv.InCore {
				g.Title = sv.CoreNow.Title
			}
			bySection[s.Section.ID] = g
			order = append(order, s.Section.ID)
		}
		g.Suggestions = append(g.Suggestions, sv)
		out.Open++
	}
	pos := func(id string) int {
		if i := slices.IndexFunc(kit.Doc.Sections, func(x KitSection) bool { return x.ID == id }); i >= 0 {
			return i
		}
		return len(kit.Doc.Sections)
	}
	slices.SortStableFunc(order, func(a, b string) int { return pos(a) - pos(b) })
	for _, id := range order {
		out.Sections = append(out.Sections, *bySection[id])
	}
	return out, nil
}

// OpenCount returns how many suggestions to a round's core kit are open: the core
// kit's editors.
func (ks *KitSuggestions) OpenCount(ctx context.Context, c Caller, round int) (int, error) {
	if !canWriteCore(c) {
		return 0, ErrForbidden
	}
	all, err := ks.Store.KitSuggestions(ctx, round)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range all {
		if s.Status == SuggestionOpen {
			n++
		}
	}
	return n, nil
}

// ForGroup returns the suggestions a group has made to a round's core kit, newest
// first: its facilitators and admins.
func (ks *KitSuggestions) ForGroup(ctx context.Context, c Caller, round int, group string) ([]KitSuggestion, error) {
	if !canWriteVariant(c, group) {
		return nil, ErrForbidden
	}
	all, err := ks.Store.KitSuggestions(ctx, round)
	if err != nil {
		return nil, err
	}
	var out []KitSuggestion
	for _, s := range slices.Backward(all) {
		if s.Group == group {
			out = append(out, s)
		}
	}
	return out, nil
}

// open returns a suggestion that is still open.
func (ks *KitSuggestions) open(ctx context.Context, round int, id string) (KitSuggestion, error) {
	if !ValidSuggestionID(id) {
		return KitSuggestion{}, Errorf(KindNotFound, "There is no such suggestion.")
	}
	s, err := ks.Store.KitSuggestion(ctx, round, id)
	if KindOf(err) == KindNotFound {
		return s, Errorf(KindNotFound, "There is no such suggestion.")
	}
	if err != nil {
		return s, err
	}
	if s.Status != SuggestionOpen {
		return s, ErrSuggestionDecided
	}
	return s, nil
}

// Accept saves a suggestion's section into the round's core kit over its head, as an
// editor's save of that section from the core revision the suggestion was made against
// (merged with what the core kit has had since), and records it as accepted: the core
// kit's editors. A *KitConflict error when the core kit has changed the section's same
// words since: nothing is saved, and the suggestion stays open.
func (ks *KitSuggestions) Accept(ctx context.Context, c Caller, round int, id string) (Kit, KitSuggestion, error) {
	if !canWriteCore(c) {
		return Kit{}, KitSuggestion{}, ErrForbidden
	}
	s, err := ks.open(ctx, round, id)
	if err != nil {
		return Kit{}, s, err
	}
	k := ks.Variants.Kits
	_, name := ks.Variants.parentNames(ctx, s.Group)
	kit, err := k.CoreKit(ctx, c, round)
	if err != nil {
		return kit, s, err
	}
	if now, ok := kit.Doc.Section(s.Section.ID); !ok || now != s.Section {
		note := suggestionNote(name, s.Section.Title)
		if kit, err = k.saveSection(ctx, c, round, CoreKit, s.Core.Hash, s.Section, note); err != nil {
			return kit, s, err
		}
	}
	s.Status, s.DecidedBy, s.DecidedAt, s.Accepted = SuggestionAccepted, c.Email, k.Now(), kit.Head.Number
	a := k.audit(c, "accept kit suggestion", fmt.Sprintf("%d %s %s", round, s.Group, s.Section.ID), nil,
		map[string]any{"suggestion": s.ID, "section": s.Section.Title, "revision": kit.Head.Hash})
	if err := ks.Store.DecideKitSuggestion(ctx, s, a); err != nil {
		return kit, s, err
	}
	return kit, s, nil
}

// suggestionNote is the change note of an accepted suggestion, within KitNoteMax.
func suggestionNote(group, title string) string {
	note := fmt.Sprintf("Took %s’s suggested change to “%s”", group, title)
	if r := []rune(note); len(r) > KitNoteMax {
		note = string(r[:KitNoteMax-2]) + "…”"
	}
	return note
}

// Decline records a suggestion as declined, with a reason (optional) that the group's
// facilitators read: the core kit's editors.
func (ks *KitSuggestions) Decline(ctx context.Context, c Caller, round int, id, reason string) (KitSuggestion, error) {
	if !canWriteCore(c) {
		return KitSuggestion{}, ErrForbidden
	}
	reason = strings.TrimSpace(strings.ReplaceAll(reason, "\r\n", "\n"))
	var errs FieldErrors
	errs.paragraph("reason", reason, "Reason", KitReasonMax, "")
	if err := errs.Err(); err != nil {
		return KitSuggestion{}, err
	}
	s, err := ks.open(ctx, round, id)
	if err != nil {
		return s, err
	}
	k := ks.Variants.Kits
	s.Status, s.DecidedBy, s.DecidedAt, s.Reason = SuggestionDeclined, c.Email, k.Now(), reason
	a := k.audit(c, "decline kit suggestion", fmt.Sprintf("%d %s %s", round, s.Group, s.Section.ID), nil,
		map[string]any{"suggestion": s.ID, "section": s.Section.Title, "reason": reason})
	if err := ks.Store.DecideKitSuggestion(ctx, s, a); err != nil {
		if errors.Is(err, ErrSuggestionDecided) {
			return s, err
		}
		return s, fmt.Errorf("decline suggestion %s: %w", id, err)
	}
	return s, nil
}
