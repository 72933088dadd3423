package peergroups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// A round's kit is what every regional group runs its event from: its content, written
// together by the facilitators. Each save makes a new revision: one JSON document,
// immutable, stored by its content's SHA-256 (KitObjects); the kit's head names the
// latest, and moves only by a conditional write on the head the editor saw (KitStore).

// Kit licences.
const (
	LicenceOGL  = "OGL-3.0"
	LicenceCCBY = "CC-BY-4.0"
)

// Section kinds and audiences.
const (
	SectionSlides   = "slides"
	SectionHandout  = "handout"
	SectionExercise = "exercise"
	SectionNotes    = "notes"

	AudienceParticipant = "participant"
	AudienceFacilitator = "facilitator"
)

// CoreKit names a round's core kit, the one every group's variant starts from.
const CoreKit = "core"

// Limits of a kit's text.
const (
	KitTitleMax   = 120
	KitSummaryMax = 2000
	KitBodyMax    = 50000 // characters of a section's Markdown (a form is at most 64 KB)
	KitNoteMax    = 200
)

var (
	// Licences and SectionKinds and Audiences are the choices, in the forms' order.
	Licences     = []string{LicenceOGL, LicenceCCBY}
	SectionKinds = []string{SectionSlides, SectionHandout, SectionExercise, SectionNotes}
	Audiences    = []string{AudienceParticipant, AudienceFacilitator}
)

// KitRevision is what is kept about one revision: never changed once written.
type KitRevision struct {
	Number int    // 1 for the first revision of the kit
	Hash   string // SHA-256 of the document, hex: its address
	Parent string // the hash of the revision it was saved over; "" for the first
	Author string
	At     time.Time
	Note   string
}

// KitHead is a kit's latest revision.
type KitHead struct {
	Round    int
	Kit      string // CoreKit
	Revision KitRevision
}

// ErrKitMoved is what KitStore.SaveKitRevision returns when the head is no longer the
// revision the save started from.
var ErrKitMoved = &Error{Kind: KindConflict, Message: "The kit has been changed by someone else since you started."}

// KitStore keeps kits' heads and revisions' facts (DynamoDB).
type KitStore interface {
	// KitHead returns a kit's head; a KindNotFound error when the kit has none.
	KitHead(ctx context.Context, round int, kit string) (KitHead, error)
	// SaveKitRevision records rev and moves the head to it, if the head is still the
	// revision numbered rev.Number-1 with hash rev.Parent ("" and 0: no kit yet);
	// ErrKitMoved if not.
	SaveKitRevision(ctx context.Context, round int, kit string, rev KitRevision, a AuditEntry) error
	// KitRevisions returns a kit's revisions, newest first.
	KitRevisions(ctx context.Context, round int, kit string) ([]KitRevision, error)
}

// KitObjects keeps revisions' documents by their content's address (S3).
type KitObjects interface {
	PutKitObject(ctx context.Context, hash string, body []byte) error
	// KitObject returns a document; a KindNotFound error when there is none.
	KitObject(ctx context.Context, hash string) ([]byte, error)
}

// KitHTMLStore keeps, beside each revision's document, its sections' Markdown as
// safe HTML (S3): a JSON object of section IDs to HTML, at the revision's address.
type KitHTMLStore interface {
	PutKitHTML(ctx context.Context, hash string, body []byte) error
	// KitHTML returns a revision's HTML; a KindNotFound error when there is none.
	KitHTML(ctx context.Context, hash string) ([]byte, error)
}

// KitRenderer turns Markdown into safe HTML and checks it, text by text, in order:
// the render function, or the same code in this process locally.
type KitRenderer interface {
	RenderMarkdown(ctx context.Context, texts []string) ([]RenderedText, error)
}

// RenderedText is one Markdown text as safe HTML, with the accessibility errors found
// in it (each a sentence saying what to change).
type RenderedText struct {
	HTML     string
	Problems []string
}

// KitProblem is an accessibility error in a kit: which section, and what to change.
type KitProblem struct {
	Section string `json:"section"` // the section's ID
	Title   string `json:"title"`   // the section's title, to name it
	Message string `json:"message"`
}

// kitRendering is what is kept beside a revision: its sections as HTML, by section
// ID, and the accessibility errors found in them.
type kitRendering struct {
	Sections map[string]string `json:"sections"`
	Problems []KitProblem      `json:"problems,omitempty"`
}

// Kits is the rounds' kits: any facilitator, and admins, write a round's core kit.
type Kits struct {
	Env
	Store   KitStore
	Objects interface {
		KitObjects
		KitHTMLStore
	}
	Rounds RoundReader
	// Renderer renders a revision's sections when it is saved, or first read if
	// that failed; nil shows them as plain text.
	Renderer KitRenderer
}

// Kit is a kit's head revision with its content.
type Kit struct {
	Round    Round
	Head     KitRevision
	Doc      KitDoc
	Revision string // the head's hash: the revision an edit starts from
	// HTML is each section's body as safe HTML, by section ID; nil when it cannot
	// be rendered just now (the page then shows the text as it was written).
	HTML map[string]string
	// Problems are the accessibility errors in the sections (unknown while HTML is nil).
	Problems []KitProblem
}

// KitClash is one thing two saves changed differently: a field of the kit or of a
// section, with its text before, in this save, and in the other.
type KitClash struct {
	Section            string // "" for the kit's own fields
	Row                string // the agenda row's ID, for a clash in the agenda (then Section is "")
	Field              string // title, summary, licence; or a section's kind, audience, title, body, or "section" when one side removed it
	Base, Ours, Theirs string
}

// KitConflict is the error of a save that clashes with another made meanwhile: the
// person's save is not lost (Ours), and can be saved again over the new head.
type KitConflict struct {
	Head    Kit // the kit as it is now
	Ours    KitDoc
	Clashes []KitClash
}

func (c *KitConflict) Error() string {
	return fmt.Sprintf("kit changed meanwhile: %d clashes", len(c.Clashes))
}

// canWriteCore reports whether c may write a round's core kit.
func canWriteCore(c Caller) bool { return c.Admin || c.IsFacilitator() }

// CoreKit returns a round's core kit; a KindNotFound error when it has none yet.
func (k *Kits) CoreKit(ctx context.Context, c Caller, round int) (Kit, error) {
	if !canWriteCore(c) {
		return Kit{}, ErrForbidden
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, err
	}
	return k.load(ctx, r)
}

// round returns a round, saying so in words when there is none.
func (k *Kits) round(ctx context.Context, number int) (Round, error) {
	r, err := k.Rounds.Round(ctx, number)
	if KindOf(err) == KindNotFound {
		return r, Errorf(KindNotFound, "There is no round %d.", number)
	}
	return r, err
}

func (k *Kits) load(ctx context.Context, r Round) (Kit, error) { return k.loadKit(ctx, r, CoreKit) }

// loadKit reads a round's kit (CoreKit, or a group's variant) at its head.
func (k *Kits) loadKit(ctx context.Context, r Round, kit string) (Kit, error) {
	head, err := k.Store.KitHead(ctx, r.Number, kit)
	if err != nil {
		return Kit{Round: r}, err
	}
	var html *kitRendering
	rendered := make(chan struct{})
	go func() {
		defer close(rendered)
		html = k.html(ctx, head.Revision.Hash)
	}()
	doc, err := k.doc(ctx, head.Revision.Hash)
	<-rendered
	if err == nil && html == nil {
		// Its rendering failed when it was saved: try again.
		html, _ = k.render(ctx, head.Revision.Hash, doc)
	}
	if html == nil {
		html = &kitRendering{}
	}
	if KindOf(err) == KindNotFound {
		// The head names a document the bucket does not have: a fault, not a page
		// that is not there (versioning keeps an overwritten or deleted one 30 days).
		return Kit{Round: r}, Wrap(KindInternal, fmt.Errorf("round %d's kit %s: head revision %d: %w", r.Number, kit, head.Revision.Number, err), "")
	}
	if err != nil {
		return Kit{Round: r}, err
	}
	return Kit{Round: r, Head: head.Revision, Doc: doc, Revision: head.Revision.Hash, HTML: html.Sections, Problems: html.Problems}, nil
}

// html reads a revision's sections as HTML; nil when they are not there (or cannot be
// read: the page shows the text instead).
func (k *Kits) html(ctx context.Context, hash string) *kitRendering {
	b, err := k.Objects.KitHTML(ctx, hash)
	if err != nil {
		return nil
	}
	var html kitRendering
	if json.Unmarshal(b, &html) != nil || html.Sections == nil {
		return nil
	}
	return &html
}

// render renders a revision's sections and keeps the HTML beside its document.
func (k *Kits) render(ctx context.Context, hash string, d KitDoc) (*kitRendering, error) {
	if k.Renderer == nil {
		return nil, nil
	}
	texts := make([]string, len(d.Sections))
	for i, s := range d.Sections {
		texts[i] = s.Body
	}
	out, err := k.Renderer.RenderMarkdown(ctx, texts)
	if err == nil && len(out) != len(texts) {
		err = fmt.Errorf("%d texts rendered of %d", len(out), len(texts))
	}
	if err != nil {
		return nil, fmt.Errorf("render kit revision %s: %w", hash, err)
	}
	html := &kitRendering{Sections: make(map[string]string, len(d.Sections))}
	for i, s := range d.Sections {
		html.Sections[s.ID] = out[i].HTML
		for _, p := range out[i].Problems {
			html.Problems = append(html.Problems, KitProblem{Section: s.ID, Title: s.Title, Message: p})
		}
	}
	b, err := json.Marshal(html)
	if err != nil {
		return nil, fmt.Errorf("encode kit revision %s's HTML: %w", hash, err)
	}
	return html, k.Objects.PutKitHTML(ctx, hash, b)
}

// doc reads a revision's document.
func (k *Kits) doc(ctx context.Context, hash string) (KitDoc, error) {
	b, err := k.Objects.KitObject(ctx, hash)
	if KindOf(err) == KindNotFound {
		return KitDoc{}, fmt.Errorf("kit revision %s is missing: %w", hash, err)
	}
	if err != nil {
		return KitDoc{}, err
	}
	var d KitDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return KitDoc{}, fmt.Errorf("decode kit revision %s: %w", hash, err)
	}
	return d, nil
}

// CreateCoreKit writes the first revision of a round's core kit: its title, summary
// and licence. A KindConflict error when someone has made it meanwhile.
func (k *Kits) CreateCoreKit(ctx context.Context, c Caller, round int, d KitDoc) (Kit, error) {
	if !canWriteCore(c) {
		return Kit{}, ErrForbidden
	}
	d = KitDoc{Title: d.Title, Summary: d.Summary, Licence: d.Licence}.Normalise()
	if err := ValidateKitDetails(d).Err(); err != nil {
		return Kit{}, err
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, err
	}
	kit, err := k.write(ctx, c, r, KitRevision{Number: 1, Note: "Created the kit"}, d)
	if errors.Is(err, ErrKitMoved) {
		return Kit{}, Errorf(KindConflict, "Round %d already has a core kit.", round)
	}
	return kit, err
}

// SaveSection saves one section (a new one when its ID is not in the kit) over the
// revision the editor started from. When the kit has moved on since, the save is
// merged with what was saved meanwhile; a *KitConflict error when both changed the
// same thing differently, which loses nothing: it carries the person's save.
func (k *Kits) SaveSection(ctx context.Context, c Caller, round int, from string, s KitSection, note string) (Kit, error) {
	if !canWriteCore(c) {
		return Kit{}, ErrForbidden
	}
	return k.saveSection(ctx, c, round, CoreKit, from, s, note)
}

// saveSection saves one section of a round's kit (CoreKit, or a group's variant).
func (k *Kits) saveSection(ctx context.Context, c Caller, round int, kit, from string, s KitSection, note string) (Kit, error) {
	s = KitDoc{Sections: []KitSection{s}}.Normalise().Sections[0]
	note = normaliseLine(note)
	errs := append(ValidateSection(s), ValidateChangeNote(note)...)
	if !ValidSectionID(s.ID) {
		return Kit{}, Errorf(KindNotFound, "There is no such section.")
	}
	if err := errs.Err(); err != nil {
		return Kit{}, err
	}
	if !ValidKitHash(from) {
		return Kit{}, Errorf(KindInvalid, "The form did not say which revision you started from. Go back, refresh the page, then try again.")
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, err
	}
	base, err := k.doc(ctx, from)
	if err != nil {
		return Kit{}, err
	}
	ours := base
	ours.Sections = slices.Clone(base.Sections)
	if i := slices.IndexFunc(ours.Sections, func(x KitSection) bool { return x.ID == s.ID }); i >= 0 {
		ours.Sections[i] = s
	} else {
		ours.Sections = append(ours.Sections, s)
	}
	return k.saveKit(ctx, c, r, kit, from, base, ours, note)
}

// maxSaveTries bounds how often a save is merged again when the head keeps moving.
const maxSaveTries = 5

// saveKit writes ours, edited from base (revision from), as the kit's new head, merging
// it with what others saved meanwhile.
func (k *Kits) saveKit(ctx context.Context, c Caller, r Round, kit, from string, base, ours KitDoc, note string) (Kit, error) {
	for attempt := range maxSaveTries {
		head, err := k.Store.KitHead(ctx, r.Number, kit)
		if err != nil {
			return Kit{}, err
		}
		next := ours
		if head.Revision.Hash != from {
			theirs, err := k.doc(ctx, head.Revision.Hash)
			if err != nil {
				return Kit{}, err
			}
			merged, clashes := MergeKits(base, ours, theirs)
			if len(clashes) > 0 {
				return Kit{}, &KitConflict{Head: Kit{Round: r, Head: head.Revision, Doc: theirs, Revision: head.Revision.Hash}, Ours: ours, Clashes: clashes}
			}
			next = merged
		}
		saved, err := k.writeKit(ctx, c, r, kit, KitRevision{Number: head.Revision.Number + 1, Parent: head.Revision.Hash, Note: note}, next)
		if errors.Is(err, ErrKitMoved) {
			continue // someone saved between the read and the write: merge again
		}
		if errors.Is(err, ErrContended) {
			// DynamoDB cancelled the write for another in flight on the same head
			// (TransactionConflict): read the head again after a moment, and merge.
			if err := pause(ctx, attempt); err != nil {
				return Kit{}, err
			}
			continue
		}
		if err != nil {
			return Kit{}, err
		}
		return saved, nil
	}
	return Kit{}, Errorf(KindUnavailable, "The kit is being changed by several people at once. Your changes have not been saved yet: go back and send them again.")
}

// pause waits before another try: 20 ms, 40 ms, 80 ms… with jitter, so that two saves
// cancelled by each other do not meet again.
func pause(ctx context.Context, attempt int) error {
	return Sleep(ctx, time.Duration(10+rand.N(10))*time.Millisecond<<attempt)
}

// write stores a document and moves the core kit's head to it; it returns the kit
// as saved.
func (k *Kits) write(ctx context.Context, c Caller, r Round, rev KitRevision, d KitDoc) (Kit, error) {
	return k.writeKit(ctx, c, r, CoreKit, rev, d)
}

// writeKit is write for a round's kit (CoreKit, or a group's variant).
func (k *Kits) writeKit(ctx context.Context, c Caller, r Round, kit string, rev KitRevision, d KitDoc) (Kit, error) {
	d = d.Normalise()
	hash, html, err := k.putDoc(ctx, d)
	if err != nil {
		return Kit{}, err
	}
	rev.Hash, rev.Author, rev.At = hash, c.Email, k.Now()
	target := fmt.Sprintf("%d %s r%d", r.Number, kit, rev.Number)
	if err := k.Store.SaveKitRevision(ctx, r.Number, kit, rev, k.audit(c, "save kit", target, nil, map[string]any{"revision": hash, "note": rev.Note})); err != nil {
		return Kit{}, err
	}
	return Kit{Round: r, Head: rev, Doc: d, Revision: hash, HTML: html.Sections, Problems: html.Problems}, nil
}

// putDoc stores a document (and its HTML) at its address, and returns the address
// and the HTML (empty when the render function cannot be reached).
func (k *Kits) putDoc(ctx context.Context, d KitDoc) (string, *kitRendering, error) {
	d = d.Normalise()
	body, hash, err := d.Encode()
	if err != nil {
		return "", nil, err
	}
	if err := k.Objects.PutKitObject(ctx, hash, body); err != nil {
		return "", nil, err
	}
	// Rendered now, so that the page after the save shows it; if the render function
	// cannot be reached, the save still lands and the first read renders it.
	html, _ := k.render(ctx, hash, d)
	if html == nil {
		html = &kitRendering{}
	}
	return hash, html, nil
}

// KitNotAccessible is the error of publishing a round whose core kit has
// accessibility errors.
type KitNotAccessible struct {
	Round    int
	Problems []KitProblem
}

func (e *KitNotAccessible) Error() string {
	return fmt.Sprintf("round %d's core kit has %d accessibility errors", e.Round, len(e.Problems))
}

// CoreKitProblems returns the accessibility errors of a round's core kit's head:
// none when the round has no core kit. A KindUnavailable error when they cannot be
// known just now (the render function, which finds them, cannot be reached).
func (k *Kits) CoreKitProblems(ctx context.Context, round int) ([]KitProblem, error) {
	r, err := k.round(ctx, round)
	if err != nil {
		return nil, err
	}
	kit, err := k.load(ctx, r)
	if KindOf(err) == KindNotFound && kit.Head.Hash == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if kit.HTML == nil && len(kit.Doc.Sections) > 0 {
		return nil, Errorf(KindUnavailable, "The core kit’s accessibility cannot be checked just now. Try again in a few minutes.")
	}
	return kit.Problems, nil
}

// History returns a round's core kit's revisions, newest first.
func (k *Kits) History(ctx context.Context, c Caller, round int) (Kit, []KitRevision, error) {
	kit, err := k.CoreKit(ctx, c, round)
	if err != nil {
		return kit, nil, err
	}
	revs, err := k.Store.KitRevisions(ctx, round, CoreKit)
	return kit, revs, err
}
