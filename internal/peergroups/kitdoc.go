// A kit revision as data: one JSON document of sections, normalised and addressed by
// the SHA-256 of its content, and the rules of its fields.

package peergroups

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LicenceName is a licence's name in words.
func LicenceName(l string) string {
	switch l {
	case LicenceOGL:
		return "Open Government Licence v3.0"
	case LicenceCCBY:
		return "Creative Commons Attribution 4.0"
	}
	return l
}

// KitSection is one part of a kit: slides, a handout, an exercise or notes, for the
// participants or for the facilitators only. Body is Markdown.
type KitSection struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Audience string `json:"audience"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

// FacilitatorOnly reports whether the section is for the facilitators only.
func (s KitSection) FacilitatorOnly() bool { return s.Audience == AudienceFacilitator }

// KitDoc is the content of one revision of a kit: the JSON document that is stored.
type KitDoc struct {
	Title    string       `json:"title"`
	Summary  string       `json:"summary"`
	Licence  string       `json:"licence"`
	Sections []KitSection `json:"sections"`
	Agenda   []AgendaRow  `json:"agenda,omitempty"` // the plan for the event (kitagenda.go)
	Files    []KitFile    `json:"files,omitempty"`
}

// Section returns the section with an ID.
func (d KitDoc) Section(id string) (KitSection, bool) {
	for _, s := range d.Sections {
		if s.ID == id {
			return s, true
		}
	}
	return KitSection{}, false
}

// NormaliseText is how Markdown is kept: LF line ends (browsers send CRLF), no spaces
// at the ends of lines, valid UTF-8, and one final newline ("" stays "").
func NormaliseText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	s = strings.Trim(strings.Join(lines, "\n"), "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}

// normaliseLine is how a one-line field is kept.
func normaliseLine(s string) string { return strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")) }

// Normalise returns the document as it is stored.
func (d KitDoc) Normalise() KitDoc {
	d.Title, d.Licence = normaliseLine(d.Title), normaliseLine(d.Licence)
	d.Summary = strings.TrimSuffix(NormaliseText(d.Summary), "\n")
	secs := make([]KitSection, len(d.Sections))
	for i, s := range d.Sections {
		s.ID, s.Kind, s.Audience, s.Title = normaliseLine(s.ID), normaliseLine(s.Kind), normaliseLine(s.Audience), normaliseLine(s.Title)
		s.Body = NormaliseText(s.Body)
		secs[i] = s
	}
	d.Sections = secs
	d.Agenda = NormaliseAgenda(d.Agenda)
	return d
}

// Encode returns the stored document and its address.
func (d KitDoc) Encode() ([]byte, string, error) {
	if d.Sections == nil {
		d.Sections = []KitSection{}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, "", fmt.Errorf("encode kit: %w", err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// ValidKitHash reports whether s can be a revision's address.
func ValidKitHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// ValidSectionID reports whether s can be a section's ID: 1 to 40 lower-case letters,
// digits and hyphens.
func ValidSectionID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// NewSectionID returns a fresh section ID.
func NewSectionID() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "s-" + hex.EncodeToString(b)
}

// ValidateKitDetails checks a kit's own fields, in the order of their form.
func ValidateKitDetails(d KitDoc) FieldErrors {
	var errs FieldErrors
	errs.line("title", d.Title, "Title", KitTitleMax, "Enter the kit’s title")
	errs.paragraph("summary", d.Summary, "Summary", KitSummaryMax, "Enter a summary of the kit")
	if !slices.Contains(Licences, d.Licence) {
		errs.add("licence", "Select the licence the kit is shared under")
	}
	return errs
}

// ValidateSection checks a section, in the order of its form's fields.
func ValidateSection(s KitSection) FieldErrors {
	var errs FieldErrors
	errs.line("title", s.Title, "Title", KitTitleMax, "Enter the section’s title")
	if !slices.Contains(SectionKinds, s.Kind) {
		errs.add("kind", "Select what kind of section this is")
	}
	if !slices.Contains(Audiences, s.Audience) {
		errs.add("audience", "Select who the section is for")
	}
	switch {
	case !utf8.ValidString(s.Body):
		errs.add("body", "Content contains characters we cannot read. Type it again")
	case strings.ContainsFunc(s.Body, func(r rune) bool { return r < 32 && r != '\n' && r != '\t' }):
		errs.add("body", "Content must not contain control characters")
	case utf8.RuneCountInString(s.Body) > KitBodyMax:
		errs.add("body", "Content must be "+strconv.Itoa(KitBodyMax)+" characters or fewer")
	}
	return errs
}

// ValidateChangeNote checks a save's change note.
func ValidateChangeNote(note string) FieldErrors {
	var errs FieldErrors
	errs.line("note", note, "Change note", KitNoteMax, "Enter a short note of what you changed")
	return errs
}
