// Bringing a parent's changes into a group's variant: a three-way merge (MergeKits) from
// the parent's revision the variant is based on, whose clashes are questions a
// facilitator answers, over as many visits as they like, before one merge revision.

package peergroups

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KitMergeQuestion is one clash of a merge, with the answer given so far.
type KitMergeQuestion struct {
	KitClash
	Key          string // what the clash is about: section ID and field
	Texts        string // the clash's fingerprint (KitMergeAnswer.Texts)
	SectionTitle string
	CanOwn       bool // a text one can write one's own of (not a kind, audience or licence)
	Answer       KitMergeAnswer
}

// KitMergeState is a merge of a parent's changes into a variant, as it stands.
type KitMergeState struct {
	Variant   KitVariant  // the variant's head (ours), whole
	Theirs    KitRevision // the parent's head, being brought in
	Changes   int         // the parent's revisions being brought in
	Questions []KitMergeQuestion
	UpToDate  bool // nothing to bring in
	// Restarted is set when the parent (or the variant) has changed since the merge was
	// started: it starts again from the newest revisions, keeping the answers to clashes
	// that are still the same (Kept) and dropping the others (Dropped).
	Restarted     bool
	Kept, Dropped int
}

// Answered counts the questions answered so far.
func (s KitMergeState) Answered() int {
	n := 0
	for _, q := range s.Questions {
		if q.Answer.Choice != "" {
			n++
		}
	}
	return n
}

// mergeDocs are the three documents of a merge and MergeKits' result.
type mergeDocs struct {
	base, ours, theirs, merged KitDoc
}

// clashKey names what a clash is about.
func clashKey(c KitClash) string {
	if c.Section == "" {
		return "kit." + c.Field
	}
	return c.Section + "." + c.Field
}

// clashTexts fingerprints a clash's texts.
func clashTexts(c KitClash) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{c.Section, c.Field, c.Base, c.Ours, c.Theirs}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// mergeState works out a merge of the variant's parent's head into its head.
func (v *KitVariants) mergeState(ctx context.Context, c Caller, round int, group string) (KitMergeState, mergeDocs, error) {
	if !canWriteVariant(c, group) {
		return KitMergeState{}, mergeDocs{}, ErrForbidden
	}
	kv, err := v.Variant(ctx, c, round, group)
	if err != nil {
		return KitMergeState{Variant: kv}, mergeDocs{}, err
	}
	st := KitMergeState{Variant: kv, Theirs: kv.Parent, Changes: kv.Behind}
	if kv.Parent.Hash == kv.Lineage.BaseHash {
		st.UpToDate = true
		return st, mergeDocs{}, nil
	}
	d := mergeDocs{ours: kv.Doc}
	if d.base, err = v.Kits.doc(ctx, kv.Lineage.BaseHash); err != nil {
		return st, d, err
	}
	if d.theirs, err = v.Kits.doc(ctx, kv.Parent.Hash); err != nil {
		return st, d, err
	}
	var clashes []KitClash
	d.merged, clashes = MergeKits(d.base, d.ours, d.theirs)
	for _, cl := range clashes {
		q := KitMergeQuestion{KitClash: cl, Key: clashKey(cl), Texts: clashTexts(cl), CanOwn: cl.Field != "kind" && cl.Field != "audience" && cl.Field != "licence"}
		for _, doc := range []KitDoc{d.ours, d.theirs, d.base} {
			if s, ok := doc.Section(cl.Section); ok && cl.Section != "" {
				q.SectionTitle = s.Title
				break
			}
		}
		st.Questions = append(st.Questions, q)
	}
	return st, d, nil
}

// apply gives the questions the answers that still answer them, and says how many of
// answers did and did not.
func (st *KitMergeState) apply(answers []KitMergeAnswer) (kept, dropped int) {
	for _, a := range answers {
		i := slices.IndexFunc(st.Questions, func(q KitMergeQuestion) bool { return q.Key == a.Key && q.Texts == a.Texts })
		if i < 0 {
			dropped++
			continue
		}
		st.Questions[i].Answer = a
		kept++
	}
	return kept, dropped
}

// answers returns the answers the state's questions have.
func (st KitMergeState) answers() []KitMergeAnswer {
	var out []KitMergeAnswer
	for _, q := range st.Questions {
		if q.Answer.Choice != "" {
			out = append(out, q.Answer)
		}
	}
	return out
}

// Merge returns the merge of the parent's changes into a group's variant, with the
// answers given so far; it starts the merge (keeps it as in progress) when none is, and
// starts it again from the newest revisions when the parent or the variant has changed
// since it was started. The group's facilitators and admins.
func (v *KitVariants) Merge(ctx context.Context, c Caller, round int, group string) (KitMergeState, error) {
	st, _, err := v.mergeState(ctx, c, round, group)
	if err != nil {
		return st, err
	}
	return st, v.resume(ctx, c, &st, nil)
}

// resume applies the kept merge's answers (and then more, newer ones) to st, and keeps
// the merge as it now stands.
func (v *KitVariants) resume(ctx context.Context, c Caller, st *KitMergeState, more []KitMergeAnswer) error {
	round, group := st.Variant.Round.Number, st.Variant.Group.ID
	m, err := v.Store.KitMerge(ctx, round, group)
	switch {
	case KindOf(err) == KindNotFound:
		m = KitMerge{StartedBy: c.Email, StartedAt: v.Kits.Now()}
	case err != nil:
		return err
	}
	if st.UpToDate {
		if err == nil {
			return v.Store.DeleteKitMerge(ctx, round, group)
		}
		return nil
	}
	fresh := m.Ours == "" && m.Theirs == ""
	if !fresh && (m.Ours != st.Variant.Revision || m.Theirs != st.Theirs.Hash) {
		st.Restarted = true
	}
	st.Kept, st.Dropped = st.apply(m.Answers)
	if !st.Restarted {
		st.Kept, st.Dropped = 0, 0
	}
	st.apply(more)
	m.Ours, m.Theirs, m.Answers = st.Variant.Revision, st.Theirs.Hash, st.answers()
	return v.Store.SaveKitMergeProgress(ctx, round, group, m)
}

// AbandonMerge forgets a merge in progress: the variant stays as it is, still behind its
// parent.
func (v *KitVariants) AbandonMerge(ctx context.Context, c Caller, round int, group string) error {
	if !canWriteVariant(c, group) {
		return ErrForbidden
	}
	return v.Store.DeleteKitMerge(ctx, round, group)
}

// AnswerMerge keeps answers to a merge's clashes, given on a form shown for the
// variant's revision ours and the parent's theirs; with finish, it makes the merge
// revision: the merge with every clash answered, whose parents are the variant's head
// and the parent's, and moves the variant's base to the parent's head. When the variant
// or the parent has changed since the form was shown, the answers that still apply are
// kept and ErrMergeStale comes back with the merge started again. An unanswered clash,
// or an own text missing or not valid, is a FieldErrors error ("choice-<i>", "own-<i>").
func (v *KitVariants) AnswerMerge(ctx context.Context, c Caller, round int, group, ours, theirs string, answers []KitMergeAnswer, finish bool) (KitMergeState, error) {
	st, d, err := v.mergeState(ctx, c, round, group)
	if err != nil {
		return st, err
	}
	stale := ours != st.Variant.Revision || theirs != st.Theirs.Hash
	if st.UpToDate {
		return st, v.resume(ctx, c, &st, nil)
	}
	if err := v.resume(ctx, c, &st, answers); err != nil {
		return st, err
	}
	if stale {
		st.Restarted = true
		return st, ErrMergeStale
	}
	if !finish {
		return st, nil
	}
	doc, errs := resolve(d, st.Questions)
	if err := errs.Err(); err != nil {
		return st, err
	}
	l := st.Variant.Lineage
	hash, _, err := v.Kits.putDoc(ctx, doc)
	if err != nil {
		return st, err
	}
	head := st.Variant.Head
	rev := KitRevision{Number: head.Number + 1, Hash: hash, Parent: head.Hash, Author: c.Email, At: v.Kits.Now(),
		Note: fmt.Sprintf("Brought in %s from %s (its revision %d)", changes(st.Changes), st.Variant.ParentName, st.Theirs.Number)}
	merged := KitRevisionRef{Kit: l.Parent, Number: st.Theirs.Number, Hash: st.Theirs.Hash}
	a := v.Kits.audit(c, "merge kit", fmt.Sprintf("%d %s r%d", round, group, rev.Number), nil, map[string]any{"revision": hash, "merged": merged})
	err = v.Store.SaveKitMerge(ctx, round, group, rev, merged, l.BaseHash, a)
	if errors.Is(err, ErrKitMoved) {
		st, err = v.Merge(ctx, c, round, group)
		if err != nil {
			return st, err
		}
		st.Restarted = true
		return st, ErrMergeStale
	}
	return st, err
}

// changes is "1 change", "3 changes".
func changes(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// resolve is the merge with each clash answered: the document of the merge revision.
func resolve(d mergeDocs, qs []KitMergeQuestion) (KitDoc, FieldErrors) {
	var errs FieldErrors
	out := d.merged
	out.Sections = slices.Clone(d.merged.Sections)
	for i, q := range qs {
		a := q.Answer
		switch {
		case a.Choice != MergeKeepOurs && a.Choice != MergeTakeTheirs && (a.Choice != MergeOwn || !q.CanOwn):
			errs.add(fmt.Sprintf("choice-%d", i), "Select which text to keep for "+q.label())
			continue
		case a.Choice == MergeOwn && strings.TrimSpace(a.Own) == "":
			errs.add(fmt.Sprintf("own-%d", i), "Write your own text for "+q.label()+", or select another answer")
			continue
		}
		value := map[string]string{MergeKeepOurs: q.Ours, MergeTakeTheirs: q.Theirs, MergeOwn: a.Own}[a.Choice]
		switch {
		case q.Section == "":
			switch q.Field {
			case "title":
				out.Title = normaliseLine(value)
			case "summary":
				out.Summary = strings.TrimSuffix(NormaliseText(value), "\n")
			case "licence":
				out.Licence = value
			}
			if msg := ValidateKitDetails(out).For(q.Field); msg != "" && a.Choice == MergeOwn {
				errs.add(fmt.Sprintf("own-%d", i), msg)
			}
			continue
		case q.Field == "section":
			o, inOurs := d.ours.Section(q.Section)
			at := slices.IndexFunc(out.Sections, func(s KitSection) bool { return s.ID == q.Section })
			switch {
			case a.Choice == MergeTakeTheirs:
			case inOurs && a.Choice == MergeKeepOurs:
				out.Sections = insertAfterOurs(out.Sections, d.ours, o)
			case inOurs: // they removed it, we changed it: ours with our own text
				o.Body = NormaliseText(value)
				out.Sections = insertAfterOurs(out.Sections, d.ours, o)
			case a.Choice == MergeKeepOurs && at >= 0: // we removed it
				out.Sections = slices.Delete(out.Sections, at, at+1)
			case at >= 0:
				out.Sections[at].Body = NormaliseText(value)
			}
		default:
			at := slices.IndexFunc(out.Sections, func(s KitSection) bool { return s.ID == q.Section })
			if at < 0 {
				continue
			}
			s := &out.Sections[at]
			switch q.Field {
			case "title":
				s.Title = normaliseLine(value)
			case "kind":
				s.Kind = value
			case "audience":
				s.Audience = value
			case "body":
				s.Body = NormaliseText(value)
			}
		}
		if a.Choice != MergeOwn {
			continue
		}
		if s, ok := out.Section(q.Section); ok {
			field := q.Field
			if field == "section" {
				field = "body"
			}
			if msg := ValidateSection(s).For(field); msg != "" {
				errs.add(fmt.Sprintf("own-%d", i), msg)
			}
		}
	}
	return out, errs
}

// insertAfterOurs puts s back among sections after the section it follows in ours (or
// first).
func insertAfterOurs(sections []KitSection, ours KitDoc, s KitSection) []KitSection {
	i := slices.IndexFunc(ours.Sections, func(x KitSection) bool { return x.ID == s.ID })
	for j := i - 1; j >= 0; j-- {
		if k := slices.IndexFunc(sections, func(x KitSection) bool { return x.ID == ours.Sections[j].ID }); k >= 0 {
			return slices.Insert(sections, k+1, s)
		}
	}
	return slices.Insert(sections, 0, s)
}

// label names what a question is about, for an error message.
func (q KitMergeQuestion) label() string {
	field := map[string]string{"title": "the title", "summary": "the summary", "licence": "the licence", "kind": "the kind", "audience": "who it is for", "body": "the content", "section": "the section"}[q.Field]
	if q.Section == "" {
		return field + " of the kit"
	}
	return field + " of “" + q.SectionTitle + "”"
}
