// A group's variant of a round's kit: the group's own version, copied from the core kit
// or from another group's variant (its parent), changed by the group's facilitators, and
// brought up to date with its parent's later changes by a three-way merge.

package peergroups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// KitLineage records where a group's variant came from: its parent (the core kit or
// another group's variant), the parent's revision it was copied from, and the parent's
// revision it is based on now (the one copied, or the last one brought in).
type KitLineage struct {
	Round        int
	Kit          string // the group's ID: the variant's name
	Parent       string // CoreKit, or the ID of the group whose variant it was copied from
	BaseHash     string
	BaseNumber   int
	CopiedHash   string
	CopiedNumber int
	CopiedBy     string
	CopiedAt     time.Time
}

// KitRevisionRef names one revision of one kit.
type KitRevisionRef struct {
	Kit    string
	Number int
	Hash   string
}

// KitVariantRevision is a revision of a variant; a merge revision has a second parent:
// the revision of the variant's parent that it brought in.
type KitVariantRevision struct {
	KitRevision
	Merged *KitRevisionRef
}

// The answers to a merge's clash.
const (
	MergeKeepOurs   = "ours"
	MergeTakeTheirs = "theirs"
	MergeOwn        = "own"
)

// KitMergeAnswer is a facilitator's answer to one clash of a merge: keep the variant's
// text, take the parent's, or their own text. Texts fingerprints the clash as it was
// when answered, so that an answer is kept only while the clash it answers is the same.
type KitMergeAnswer struct {
	Key    string
	Choice string
	Own    string
	Texts  string
}

// KitMerge is a merge of a parent's changes into a variant that has been started and not
// finished: kept, with the answers given so far, until it is finished or abandoned.
type KitMerge struct {
	Ours      string // the variant's head when the merge was started (or restarted)
	Theirs    string // the parent's head then
	Answers   []KitMergeAnswer
	StartedBy string
	StartedAt time.Time
}

// KitVariantStore keeps variants' lineage and their merges in progress (DynamoDB).
type KitVariantStore interface {
	// KitLineage returns a variant's lineage; a KindNotFound error when the group has no
	// variant of the round's kit.
	KitLineage(ctx context.Context, round int, kit string) (KitLineage, error)
	// KitLineages returns the lineage of every variant of a round's kit.
	KitLineages(ctx context.Context, round int) ([]KitLineage, error)
	// CreateKitVariant records a variant's first revision, its head and its lineage, all
	// or nothing; ErrKitMoved when the group has a variant already.
	CreateKitVariant(ctx context.Context, round int, rev KitRevision, l KitLineage, a AuditEntry) error
	// SaveKitMerge records a merge revision (its second parent merged), moves the
	// variant's head to it as SaveKitRevision does and its lineage's base to merged, if
	// the base is still oldBase, and forgets the merge in progress; ErrKitMoved when
	// the head or the base has moved.
	SaveKitMerge(ctx context.Context, round int, kit string, rev KitRevision, merged KitRevisionRef, oldBase string, a AuditEntry) error
	// KitVariantRevisions returns a variant's revisions, newest first.
	KitVariantRevisions(ctx context.Context, round int, kit string) ([]KitVariantRevision, error)
	// KitMerge returns a variant's merge in progress; a KindNotFound error when none.
	KitMerge(ctx context.Context, round int, kit string) (KitMerge, error)
	SaveKitMergeProgress(ctx context.Context, round int, kit string, m KitMerge) error
	DeleteKitMerge(ctx context.Context, round int, kit string) error
}

// KitPeople tells whether someone is a member of a group.
type KitPeople interface {
	Person(ctx context.Context, email string) (Person, error)
}

// KitVariants is the groups' variants of the rounds' kits: a group's facilitators, and
// admins, write its variant; any facilitator reads it, and may take it as their own
// group's; the group's members read its sections for participants.
type KitVariants struct {
	Kits   *Kits
	Store  KitVariantStore
	Groups GroupReader
	People KitPeople
}

// Where a variant's section comes from.
const (
	OriginInherited = "inherited" // as in the parent's revision the variant is based on
	OriginChanged   = "changed"   // changed here
	OriginAdded     = "added"     // not in the parent's revision
)

// KitVariant is a group's variant of a round's kit at its head.
type KitVariant struct {
	Kit
	Group       Group
	Lineage     KitLineage
	ParentName  string            // "the core kit", "London’s version"
	ParentShort string            // "the core kit", "London"
	Parent      KitRevision       // the parent's head
	Behind      int               // the parent's revisions since the variant's base
	Origins     map[string]string // section ID → OriginInherited, OriginChanged or OriginAdded
	Attribution string
	// Participant is the view of a member: facilitator-only sections are not in it.
	Participant bool
	CanWrite    bool
	Merging     bool // a merge of the parent's changes has been started and not finished
}

// KitChoice is a kit a group may take as its variant.
type KitChoice struct {
	Kit  string // CoreKit or a group's ID
	Name string // "the core kit", "London’s version"
	Head KitRevision
}

// ErrNoVariant is the error for a group without a variant of the round's kit.
var ErrNoVariant = &Error{Kind: KindNotFound, Message: "The group has no version of this round’s kit yet."}

// ErrMergeStale is AnswerMerge's error when the variant or its parent has changed since
// the merge's form was shown: the merge starts again (the state comes with it).
var ErrMergeStale = &Error{Kind: KindConflict, Message: "The kits have changed since you started bringing in the changes."}

// maxLineageDepth bounds the walk up a variant's ancestors.
const maxLineageDepth = 20

// canWriteVariant reports whether c may write a group's variant.
func canWriteVariant(c Caller, group string) bool { return c.CanFacilitate(group) }

// canReadVariants reports whether c reads every variant whole: facilitators co-produce
// the kits, and take each other's.
func canReadVariants(c Caller) bool { return c.Admin || c.IsFacilitator() }

// group returns a group, in words when there is none; "core" names no group's variant.
func (v *KitVariants) group(ctx context.Context, id string) (Group, error) {
	if id == CoreKit || !validGroupID(id) {
		return Group{}, Errorf(KindNotFound, "There is no such group.")
	}
	g, err := v.Groups.Group(ctx, id)
	if KindOf(err) == KindNotFound {
		return g, Errorf(KindNotFound, "There is no such group.")
	}
	return g, err
}

// parentNames returns a kit's name as a parent ("London’s version") and short ("London").
func (v *KitVariants) parentNames(ctx context.Context, kit string) (string, string) {
	if kit == CoreKit {
		return "the core kit", "the core kit"
	}
	name := kit
	if g, err := v.Groups.Group(ctx, kit); err == nil {
		name = g.Name
	}
	return Possessive(name) + " version", name
}

// Possessive is a name's possessive: "London’s", "Midlands’" (a name ending in s
// takes the apostrophe alone, as the network writes "the Midlands’ event").
func Possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "’"
	}
	return name + "’s"
}

// Variant returns a group's variant of a round's kit: whole for facilitators and admins,
// and without its facilitator-only sections for the group's members. ErrNoVariant (with
// the round and group set) when the group has none yet.
func (v *KitVariants) Variant(ctx context.Context, c Caller, round int, group string) (KitVariant, error) {
	if !c.SignedIn() {
		return KitVariant{}, ErrForbidden
	}
	participant := false
	if !canReadVariants(c) {
		p, err := v.People.Person(ctx, c.Email)
		if err != nil && KindOf(err) != KindNotFound {
			return KitVariant{}, err
		}
		if !p.IsMember(group) {
			return KitVariant{}, ErrForbidden
		}
		participant = true
	}
	g, err := v.group(ctx, group)
	if err != nil {
		return KitVariant{}, err
	}
	r, err := v.Kits.round(ctx, round)
	if err != nil {
		return KitVariant{}, err
	}
	out := KitVariant{Kit: Kit{Round: r}, Group: g, Participant: participant, CanWrite: canWriteVariant(c, group)}
	l, err := v.Store.KitLineage(ctx, round, group)
	if KindOf(err) == KindNotFound {
		return out, ErrNoVariant
	}
	if err != nil {
		return out, err
	}
	kit, err := v.Kits.loadKit(ctx, r, group)
	if err != nil {
		return out, err
	}
	out.Kit, out.Lineage = kit, l
	out.ParentName, out.ParentShort = v.parentNames(ctx, l.Parent)
	parent, err := v.Kits.Store.KitHead(ctx, round, l.Parent)
	if err != nil {
		return out, fmt.Errorf("head of %s, the parent of %s's variant: %w", l.Parent, group, err)
	}
	out.Parent = parent.Revision
	out.Behind = max(0, parent.Revision.Number-l.BaseNumber)
	base, err := v.Kits.doc(ctx, l.BaseHash)
	if err != nil {
		return out, err
	}
	out.Origins = origins(base, kit.Doc)
	if out.Attribution, err = v.attribution(ctx, r, l, kit.Doc.Licence); err != nil {
		return out, err
	}
	if participant {
		from := map[string]string{}
		out.Kit = participantKit(out.Kit)
		for _, s := range out.Doc.Sections {
			from[s.ID] = out.Origins[s.ID]
		}
		out.Origins = from
		return out, nil
	}
	if out.CanWrite {
		_, err := v.Store.KitMerge(ctx, round, group)
		out.Merging = err == nil
	}
	return out, nil
}

// participantDoc is a kit without its facilitator-only sections.
func participantDoc(d KitDoc) KitDoc {
	d.Sections = slices.DeleteFunc(slices.Clone(d.Sections), KitSection.FacilitatorOnly)
	return d
}

// origins says of each section of a variant whether it is as in the parent's revision
// it is based on, changed here, or added here.
func origins(base, head KitDoc) map[string]string {
	out := make(map[string]string, len(head.Sections))
	for _, s := range head.Sections {
		b, ok := base.Section(s.ID)
		switch {
		case !ok:
			out[s.ID] = OriginAdded
		case b == s:
			out[s.ID] = OriginInherited
		default:
			out[s.ID] = OriginChanged
		}
	}
	return out
}

// attribution writes a variant's lineage as words: "Based on London’s version, revision
// 7, which is based on the core kit for round 12, revision 3; licence …".
func (v *KitVariants) attribution(ctx context.Context, r Round, l KitLineage, licence string) (string, error) {
	var parts []string
	for range maxLineageDepth {
		if l.Parent == CoreKit {
			parts = append(parts, fmt.Sprintf("the core kit for round %d, revision %d", r.Number, l.BaseNumber))
			break
		}
		name, _ := v.parentNames(ctx, l.Parent)
		parts = append(parts, fmt.Sprintf("%s, revision %d", name, l.BaseNumber))
		next, err := v.Store.KitLineage(ctx, r.Number, l.Parent)
		if KindOf(err) == KindNotFound {
			break
		}
		if err != nil {
			return "", err
		}
		l = next
	}
	return "Based on " + strings.Join(parts, ", which is based on ") + "; licence " + LicenceName(licence), nil
}

// Choices returns the kits a group may take as its variant of a round's kit: the core
// kit and the other groups' variants. Its facilitators and admins only.
func (v *KitVariants) Choices(ctx context.Context, c Caller, round int, group string) ([]KitChoice, error) {
	if !canWriteVariant(c, group) {
		return nil, ErrForbidden
	}
	var out []KitChoice
	head, err := v.Kits.Store.KitHead(ctx, round, CoreKit)
	switch {
	case err == nil:
		out = append(out, KitChoice{Kit: CoreKit, Name: "the core kit", Head: head.Revision})
	case KindOf(err) != KindNotFound:
		return nil, err
	}
	ls, err := v.Store.KitLineages(ctx, round)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.Kit == group {
			continue
		}
		head, err := v.Kits.Store.KitHead(ctx, round, l.Kit)
		if err != nil {
			return nil, fmt.Errorf("head of %s's variant: %w", l.Kit, err)
		}
		name, _ := v.parentNames(ctx, l.Kit)
		out = append(out, KitChoice{Kit: l.Kit, Name: name, Head: head.Revision})
	}
	return out, nil
}

// CreateVariant makes a group's variant of a round's kit from another kit's head (the
// core kit, or another group's variant): its first revision is that kit's head
// revision's document itself, and its lineage records which. Its facilitators and admins.
func (v *KitVariants) CreateVariant(ctx context.Context, c Caller, round int, group, from string) error {
	if !canWriteVariant(c, group) {
		return ErrForbidden
	}
	g, err := v.group(ctx, group)
	if err != nil {
		return err
	}
	if from == group || (from != CoreKit && !validGroupID(from)) {
		return FieldErrors{{Field: "from", Message: "Select the kit to start from"}}.Err()
	}
	r, err := v.Kits.round(ctx, round)
	if err != nil {
		return err
	}
	name, _ := v.parentNames(ctx, from)
	head, err := v.Kits.Store.KitHead(ctx, round, from)
	if KindOf(err) == KindNotFound {
		return FieldErrors{{Field: "from", Message: fmt.Sprintf("There is no %s for round %d to start from", name, round)}}.Err()
	}
	if err != nil {
		return err
	}
	err = v.copyKit(ctx, c, r.Number, group, from, head.Revision, fmt.Sprintf("Copied from %s, revision %d", name, head.Revision.Number))
	if errors.Is(err, ErrKitMoved) {
		return Errorf(KindConflict, "%s already has its version of round %d’s kit.", g.Name, round)
	}
	return err
}

// copyKit makes a group's variant whose first revision is a kit's revision (its
// document itself: nothing is copied) and records its lineage; ErrKitMoved when the
// group has a variant of the round already.
func (v *KitVariants) copyKit(ctx context.Context, c Caller, round int, group, from string, head KitRevision, note string) error {
	now := v.Kits.Now()
	l := KitLineage{Round: round, Kit: group, Parent: from, BaseHash: head.Hash, BaseNumber: head.Number,
		CopiedHash: head.Hash, CopiedNumber: head.Number, CopiedBy: c.Email, CopiedAt: now}
	rev := KitRevision{Number: 1, Hash: head.Hash, Author: c.Email, At: now, Note: note}
	a := v.Kits.audit(c, "copy kit", fmt.Sprintf("%d %s", round, group), nil, map[string]any{"from": from, "revision": head.Hash})
	return v.Store.CreateKitVariant(ctx, round, rev, l, a)
}

// SaveVariantSection saves one section of a group's variant (a new one when its ID is
// not in it) as Kits.SaveSection saves the core kit's.
func (v *KitVariants) SaveVariantSection(ctx context.Context, c Caller, round int, group, from string, s KitSection, note string) (Kit, error) {
	if !canWriteVariant(c, group) {
		return Kit{}, ErrForbidden
	}
	if _, err := v.group(ctx, group); err != nil {
		return Kit{}, err
	}
	if _, err := v.Store.KitLineage(ctx, round, group); err != nil {
		if KindOf(err) == KindNotFound {
			return Kit{}, ErrNoVariant
		}
		return Kit{}, err
	}
	return v.Kits.saveSection(ctx, c, round, group, from, s, note)
}

// SaveVariantAgenda saves a group's variant's agenda as Kits.SaveAgenda saves the core
// kit's, merged row by row with what was saved meanwhile.
func (v *KitVariants) SaveVariantAgenda(ctx context.Context, c Caller, round int, group, from string, rows []AgendaRow, note string) (Kit, error) {
	if !canWriteVariant(c, group) {
		return Kit{}, ErrForbidden
	}
	if _, err := v.group(ctx, group); err != nil {
		return Kit{}, err
	}
	if _, err := v.Store.KitLineage(ctx, round, group); err != nil {
		if KindOf(err) == KindNotFound {
			return Kit{}, ErrNoVariant
		}
		return Kit{}, err
	}
	return v.Kits.saveAgenda(ctx, c, round, group, from, rows, note)
}

// VariantHistory returns a variant with its revisions, newest first: facilitators and
// admins.
func (v *KitVariants) VariantHistory(ctx context.Context, c Caller, round int, group string) (KitVariant, []KitVariantRevision, error) {
	if !canReadVariants(c) {
		return KitVariant{}, nil, ErrForbidden
	}
	kv, err := v.Variant(ctx, c, round, group)
	if err != nil {
		return kv, nil, err
	}
	revs, err := v.Store.KitVariantRevisions(ctx, round, group)
	return kv, revs, err
}

// KitLineageRow is one variant on a round's lineage map.
type KitLineageRow struct {
	Lineage     KitLineage
	Name        string // the group's name
	ParentShort string // "the core kit", "London"
	Head        KitRevision
	Behind      int
}

// KitHotspot is a core kit section that several groups have changed in their variants.
type KitHotspot struct {
	Section KitSection
	Groups  []string // the groups' names
}

// KitLineageMap is which group's variant of a round's kit came from which, how far each
// is behind its parent, and the core sections several groups have changed.
type KitLineageMap struct {
	Round    Round
	Core     KitRevision // Number 0 when the round has no core kit
	Rows     []KitLineageRow
	Hotspots []KitHotspot
}

// LineageMap returns a round's lineage map: admins.
func (v *KitVariants) LineageMap(ctx context.Context, c Caller, round int) (KitLineageMap, error) {
	if !c.Admin {
		return KitLineageMap{}, ErrForbidden
	}
	r, err := v.Kits.round(ctx, round)
	if err != nil {
		return KitLineageMap{}, err
	}
	out := KitLineageMap{Round: r}
	var core KitDoc
	head, err := v.Kits.Store.KitHead(ctx, round, CoreKit)
	switch {
	case err == nil:
		out.Core = head.Revision
		if core, err = v.Kits.doc(ctx, head.Revision.Hash); err != nil {
			return out, err
		}
	case KindOf(err) != KindNotFound:
		return out, err
	}
	ls, err := v.Store.KitLineages(ctx, round)
	if err != nil {
		return out, err
	}
	heads := map[string]KitRevision{CoreKit: out.Core}
	for _, l := range ls {
		h, err := v.Kits.Store.KitHead(ctx, round, l.Kit)
		if err != nil {
			return out, fmt.Errorf("head of %s's variant: %w", l.Kit, err)
		}
		heads[l.Kit] = h.Revision
	}
	changedBy := map[string][]string{}
	for _, l := range ls {
		_, name := v.parentNames(ctx, l.Kit)
		_, parent := v.parentNames(ctx, l.Parent)
		out.Rows = append(out.Rows, KitLineageRow{Lineage: l, Name: name, ParentShort: parent, Head: heads[l.Kit], Behind: max(0, heads[l.Parent].Number-l.BaseNumber)})
		if len(core.Sections) == 0 {
			continue
		}
		base, err := v.Kits.doc(ctx, l.BaseHash)
		if err != nil {
			return out, err
		}
		doc, err := v.Kits.doc(ctx, heads[l.Kit].Hash)
		if err != nil {
			return out, err
		}
		for id, o := range origins(base, doc) {
			if _, inCore := core.Section(id); inCore && o == OriginChanged {
				changedBy[id] = append(changedBy[id], name)
			}
		}
	}
	slices.SortFunc(out.Rows, func(a, b KitLineageRow) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range core.Sections {
		if names := changedBy[s.ID]; len(names) >= 2 {
			slices.Sort(names)
			out.Hotspots = append(out.Hotspots, KitHotspot{Section: s, Groups: names})
		}
	}
	return out, nil
}
