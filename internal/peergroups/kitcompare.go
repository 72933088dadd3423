// Comparing two revisions of a kit, or of two kits (a variant and its parent): section
// by section, matched by ID, with the words that changed inside each text.

package peergroups

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// DiffOp says what a comparison does with a piece of text.
type DiffOp int

const (
	DiffSame    DiffOp = iota // in both texts
	DiffAdded                 // only in the later ("to") text
	DiffRemoved               // only in the earlier ("from") text
)

// TextPiece is a run of text that a comparison keeps, adds or removes.
type TextPiece struct {
	Op   DiffOp
	Text string
}

// FieldChange is a field whose value differs between two revisions, with the words
// that changed. A field of an added section is all added, of a removed one all removed.
type FieldChange struct {
	Field    string // the kit's title, summary, licence; a section's title, kind, audience, body
	From, To string
	Pieces   []TextPiece
}

// SectionStatus is what happened to a section between two revisions.
type SectionStatus string

const (
	SectionAdded     SectionStatus = "added"
	SectionRemoved   SectionStatus = "removed"
	SectionChanged   SectionStatus = "changed"
	SectionMoved     SectionStatus = "moved" // the same content, in another place
	SectionUnchanged SectionStatus = "unchanged"
)

// SectionChange is one section in a comparison.
type SectionChange struct {
	ID     string
	Status SectionStatus
	// Moved is true when the section is in another place among the sections both
	// revisions have (a changed section may have moved too).
	Moved    bool
	From, To KitSection    // the zero section where a revision does not have it
	Fields   []FieldChange // what differs, in the order of the section's form
}

// Title is the section's title in the later revision, or in the earlier one when it
// was removed.
func (s SectionChange) Title() string {
	if s.Status == SectionRemoved {
		return s.From.Title
	}
	return s.To.Title
}

// KitComparison is what differs between two kit documents.
type KitComparison struct {
	Fields []FieldChange // the kit's own fields that differ
	// Sections holds every section of either revision: in the later revision's
	// order, a removed section after the one it followed in the earlier revision.
	Sections                                  []SectionChange
	Added, Removed, Changed, Moved, Unchanged int
}

// Same reports whether the two documents have the same content.
func (c KitComparison) Same() bool {
	return len(c.Fields) == 0 && c.Added+c.Removed+c.Changed+c.Moved == 0
}

// compareBudget bounds the time the word diffs of one comparison may take: a diff past
// it marks what remains of a text as replaced whole, which is still correct (joining
// the pieces gives each text back exactly), only coarser.
const compareBudget = 2 * time.Second

// CompareKitDocs compares two kit documents, normalised as they are stored (so CRLF and
// LF, or trailing spaces, make no difference): the kit's own fields, then each section,
// matched by ID.
func CompareKitDocs(from, to KitDoc) KitComparison {
	from, to = from.Normalise(), to.Normalise()
	d := newDiffer()
	var c KitComparison
	for _, f := range []struct{ name, a, b string }{
		{"title", from.Title, to.Title},
		{"summary", from.Summary, to.Summary},
		{"licence", from.Licence, to.Licence},
	} {
		if f.a != f.b {
			c.Fields = append(c.Fields, d.field(f.name, f.a, f.b))
		}
	}

	fromSecs, toSecs := firstByID(from.Sections), firstByID(to.Sections)
	fromByID, toByID := indexByID(fromSecs), indexByID(toSecs)
	moved := movedSections(d, fromSecs, toSecs, fromByID, toByID)

	// Removed sections go after the section they followed in the earlier revision
	// that the later one still has ("" for before the first).
	removedAfter := map[string][]SectionChange{}
	anchor := ""
	for _, s := range fromSecs {
		if _, kept := toByID[s.ID]; kept {
			anchor = s.ID
			continue
		}
		removedAfter[anchor] = append(removedAfter[anchor], SectionChange{ID: s.ID, Status: SectionRemoved, From: s, Fields: d.sectionFields(s, KitSection{})})
		c.Removed++
	}
	c.Sections = append(c.Sections, removedAfter[""]...)
	for _, s := range toSecs {
		ch := SectionChange{ID: s.ID, To: s}
		if i, ok := fromByID[s.ID]; ok {
			ch.From = fromSecs[i]
			ch.Moved = moved[s.ID]
			ch.Fields = d.sectionFields(ch.From, s)
			switch {
			case len(ch.Fields) > 0:
				ch.Status = SectionChanged
				c.Changed++
			case ch.Moved:
				ch.Status = SectionMoved
				c.Moved++
			default:
				ch.Status = SectionUnchanged
				c.Unchanged++
			}
		} else {
			ch.Status = SectionAdded
			ch.Fields = d.sectionFields(KitSection{}, s)
			c.Added++
		}
		c.Sections = append(c.Sections, ch)
		c.Sections = append(c.Sections, removedAfter[s.ID]...)
	}
	return c
}

// firstByID drops a section whose ID an earlier section has (a stored document never
// has one; a comparison must not break on it).
func firstByID(secs []KitSection) []KitSection {
	seen := make(map[string]bool, len(secs))
	out := make([]KitSection, 0, len(secs))
	for _, s := range secs {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	return out
}

func indexByID(secs []KitSection) map[string]int {
	m := make(map[string]int, len(secs))
	for i, s := range secs {
		m[s.ID] = i
	}
	return m
}

// movedSections finds the sections both revisions have whose place among them
// changed: those outside the longest run of them kept in order.
func movedSections(d *differ, from, to []KitSection, fromByID, toByID map[string]int) map[string]bool {
	var a, b []string
	for _, s := range from {
		if _, ok := toByID[s.ID]; ok {
			a = append(a, s.ID)
		}
	}
	for _, s := range to {
		if _, ok := fromByID[s.ID]; ok {
			b = append(b, s.ID)
		}
	}
	moved := map[string]bool{}
	for _, p := range d.tokens(a, b) {
		if p.op == DiffAdded {
			for _, id := range p.tokens {
				moved[id] = true
			}
		}
	}
	return moved
}

// sectionFields lists the fields of a section that differ, in the order of its form.
func (d *differ) sectionFields(a, b KitSection) []FieldChange {
	var out []FieldChange
	for _, f := range []struct{ name, a, b string }{
		{"title", a.Title, b.Title},
		{"kind", a.Kind, b.Kind},
		{"audience", a.Audience, b.Audience},
		{"body", a.Body, b.Body},
	} {
		if f.a != f.b {
			out = append(out, d.field(f.name, f.a, f.b))
		}
	}
	return out
}

// field compares one field: text word by word, a choice (kind, audience, licence) as a
// whole.
func (d *differ) field(name, a, b string) FieldChange {
	fc := FieldChange{Field: name, From: a, To: b}
	switch name {
	case "kind", "audience", "licence":
		fc.Pieces = replaced(a, b)
	default:
		fc.Pieces = d.words(a, b)
	}
	return fc
}

// replaced is b in place of a, whole.
func replaced(a, b string) []TextPiece {
	var out []TextPiece
	if a != "" {
		out = append(out, TextPiece{DiffRemoved, a})
	}
	if b != "" {
		out = append(out, TextPiece{DiffAdded, b})
	}
	return out
}

// WordDiff compares two texts word by word: words, runs of white space and each other
// character are the units, so a changed word is marked whole and the white space
// around it is kept. Joining the pieces that are not DiffRemoved gives b exactly, and
// those that are not DiffAdded gives a (whatever the bytes, valid UTF-8 or not).
func WordDiff(a, b string) []TextPiece { return newDiffer().words(a, b) }

// differ runs the diffs of one comparison within its time budget.
type differ struct {
	dmp      *diffmatchpatch.DiffMatchPatch
	deadline time.Time
}

func newDiffer() *differ {
	return &differ{dmp: diffmatchpatch.New(), deadline: time.Now().Add(compareBudget)}
}

func (d *differ) words(a, b string) []TextPiece {
	if a == b {
		if a == "" {
			return nil
		}
		return []TextPiece{{DiffSame, a}}
	}
	pieces := d.tokens(splitWords(a), splitWords(b))
	var out []TextPiece
	var removed, added []byte
	flush := func() {
		if len(removed) > 0 {
			out = append(out, TextPiece{DiffRemoved, string(removed)})
		}
		if len(added) > 0 {
			out = append(out, TextPiece{DiffAdded, string(added)})
		}
		removed, added = nil, nil
	}
	for i, p := range pieces {
		text := strings.Join(p.tokens, "")
		switch {
		case p.op == DiffRemoved:
			removed = append(removed, text...)
		case p.op == DiffAdded:
			added = append(added, text...)
		case i > 0 && i < len(pieces)-1 && allSpace(p.tokens):
			// White space alone between two changes is part of one change: "the
			// cat" to "a dog" is one replacement, not two around a kept space.
			removed, added = append(removed, text...), append(added, text...)
		default:
			flush()
			out = append(out, TextPiece{DiffSame, text})
		}
	}
	flush()
	return out
}

// allSpace reports whether tokens are all white space.
func allSpace(tokens []string) bool {
	for _, t := range tokens {
		if strings.TrimLeftFunc(t, unicode.IsSpace) != "" {
			return false
		}
	}
	return true
}

// tokenPiece is a run of tokens a diff keeps, adds or removes.
type tokenPiece struct {
	op     DiffOp
	tokens []string
}

// maxTokens is how many different tokens a diff can tell apart: each is given a
// Unicode code point (surrogates skipped) for diffmatchpatch to compare.
const maxTokens = utf8.MaxRune + 1 - (0xE000 - 0xD800)

// tokens diffs two sequences of tokens with diffmatchpatch (Myers' algorithm), each
// distinct token standing for one code point, as its line mode does for lines. (Its
// semantic clean-up is not used: it cuts strings by bytes where it counted runes, which
// breaks the multi-byte code points that stand for tokens.)
func (d *differ) tokens(a, b []string) []tokenPiece {
	ids := map[string]rune{}
	var byRune []string
	encode := func(toks []string) ([]rune, bool) {
		rs := make([]rune, len(toks))
		for i, t := range toks {
			r, ok := ids[t]
			if !ok {
				if len(byRune) >= maxTokens {
					return nil, false
				}
				r = rune(len(byRune))
				if r >= 0xD800 {
					r += 0xE000 - 0xD800
				}
				ids[t] = r
				byRune = append(byRune, t)
			}
			rs[i] = r
		}
		return rs, true
	}
	ra, okA := encode(a)
	rb, okB := encode(b)
	if !okA || !okB {
		// Too many different tokens to tell apart: one text in place of the other.
		var out []tokenPiece
		if len(a) > 0 {
			out = append(out, tokenPiece{DiffRemoved, a})
		}
		if len(b) > 0 {
			out = append(out, tokenPiece{DiffAdded, b})
		}
		return out
	}
	d.dmp.DiffTimeout = max(time.Until(d.deadline), time.Millisecond)
	diffs := d.dmp.DiffMainRunes(ra, rb, false)
	out := make([]tokenPiece, 0, len(diffs))
	for _, df := range diffs {
		p := tokenPiece{op: DiffSame}
		switch df.Type {
		case diffmatchpatch.DiffInsert:
			p.op = DiffAdded
		case diffmatchpatch.DiffDelete:
			p.op = DiffRemoved
		}
		for _, r := range df.Text {
			i := int(r)
			if r >= 0xE000 {
				i -= 0xE000 - 0xD800
			}
			p.tokens = append(p.tokens, byRune[i])
		}
		if len(p.tokens) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// splitWords cuts a text into words (letters, digits and combining marks), runs of
// white space, and single other characters; an invalid byte is a token of its own.
// Joined, the tokens are the text.
func splitWords(s string) []string {
	var toks []string
	class := func(r rune, size int) int {
		switch {
		case r == utf8.RuneError && size == 1:
			return 0
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			return 1
		case unicode.IsSpace(r):
			return 2
		}
		return 0 // each on its own
	}
	start, prev := 0, -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := class(r, size)
		if i > start && (c == 0 || c != prev) {
			toks = append(toks, s[start:i])
			start = i
		}
		prev = c
		i += size
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// KitRef names one revision of one of a round's kits: CoreKit, or a group's variant
// (named by the group's ID).
type KitRef struct {
	Kit  string
	Hash string
}

// ComparedRevision is one side of a comparison: which kit, which revision, its content.
type ComparedRevision struct {
	Kit      string
	Revision KitRevision
	Doc      KitDoc
}

// KitRevisionsCompared is the comparison of two revisions, of one kit or of two (a
// variant against its parent or the core kit).
type KitRevisionsCompared struct {
	Round    Round
	From, To ComparedRevision
	KitComparison
}

// validKitName reports whether s can name a kit: CoreKit or a group's ID.
func validKitName(s string) bool { return ValidSectionID(s) }

// KitLabel names a kit in words: "the core kit", or "london’s version".
func KitLabel(kit string) string {
	if kit == CoreKit {
		return "the core kit"
	}
	return Possessive(kit) + " version"
}

// Compare compares two revisions of a round's kits: from and to may be revisions of
// the same kit or of two (a variant and its parent). A KindNotFound error, in words,
// when either is not a revision of the kit it names.
func (k *Kits) Compare(ctx context.Context, c Caller, round int, from, to KitRef) (KitRevisionsCompared, error) {
	if !canSeeWholeKits(c) {
		return KitRevisionsCompared{}, ErrForbidden
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return KitRevisionsCompared{}, err
	}
	histories := map[string][]KitRevision{}
	side := func(ref KitRef, which string) (ComparedRevision, error) {
		if !validKitName(ref.Kit) {
			return ComparedRevision{}, Errorf(KindNotFound, "Round %d has no such kit to compare %s.", round, which)
		}
		revs, seen := histories[ref.Kit]
		if !seen {
			var err error
			revs, err = k.Store.KitRevisions(ctx, round, ref.Kit)
			if err != nil {
				return ComparedRevision{}, fmt.Errorf("compare round %d's %s kit: %w", round, ref.Kit, err)
			}
			histories[ref.Kit] = revs
		}
		// Two revisions have the same hash when one went back to the other's content:
		// the earlier side is the oldest with it, the later side the newest.
		found := -1
		for i, rev := range revs { // newest first
			if ValidKitHash(ref.Hash) && rev.Hash == ref.Hash {
				found = i
				if which == "with" {
					break
				}
			}
		}
		if found >= 0 {
			rev := revs[found]
			doc, err := k.doc(ctx, rev.Hash)
			if KindOf(err) == KindNotFound {
				// Its revision item names a document the bucket does not have: a fault.
				return ComparedRevision{}, Wrap(KindInternal, fmt.Errorf("round %d's %s kit: revision %d: %w", round, ref.Kit, rev.Number, err), "")
			}
			if err != nil {
				return ComparedRevision{}, err
			}
			return ComparedRevision{Kit: ref.Kit, Revision: rev, Doc: doc}, nil
		}
		return ComparedRevision{}, Errorf(KindNotFound, "The revision to compare %s is not one of the revisions of round %d’s %s. Choose two revisions from its history.", which, round, kitWords(ref.Kit))
	}
	a, err := side(from, "from")
	if err != nil {
		return KitRevisionsCompared{}, err
	}
	b, err := side(to, "with")
	if err != nil {
		return KitRevisionsCompared{}, err
	}
	return KitRevisionsCompared{Round: r, From: a, To: b, KitComparison: CompareKitDocs(a.Doc, b.Doc)}, nil
}

// kitWords names a kit after "round 3’s": "core kit", "london version".
func kitWords(kit string) string {
	if kit == CoreKit {
		return "core kit"
	}
	return kit + " version"
}
