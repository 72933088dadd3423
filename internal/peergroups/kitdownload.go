// A kit as one zip file: its sections as Markdown, its JSON document, and who to
// thank for it, written as it is read so that nothing holds the whole zip.

package peergroups

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// KitDownload is a revision of a kit, with what its download says about it.
type KitDownload struct {
	Round    Round
	Kit      string // CoreKit, or a group's ID for its variant
	Revision KitRevision
	Doc      KitDoc
	Document []byte    // the revision's JSON document, as stored (its SHA-256 is Revision.Hash)
	Authors  []string  // who saved its revisions up to this one, first to last, each once
	Source   string    // the kit's address on the service
	At       time.Time // when it was downloaded
}

// Download returns the head revision of one of a round's kits, to download.
func (k *Kits) Download(ctx context.Context, c Caller, round int, kit string) (KitDownload, error) {
	if !canSeeWholeKits(c) {
		return KitDownload{}, ErrForbidden
	}
	if !validKitName(kit) {
		return KitDownload{}, Errorf(KindNotFound, "Round %d has no such kit.", round)
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return KitDownload{}, err
	}
	head, err := k.Store.KitHead(ctx, round, kit)
	if KindOf(err) == KindNotFound {
		return KitDownload{}, Errorf(KindNotFound, "Round %d’s %s has not been written yet.", round, kitWords(kit))
	}
	if err != nil {
		return KitDownload{}, err
	}
	body, err := k.Objects.KitObject(ctx, head.Revision.Hash)
	if KindOf(err) == KindNotFound {
		return KitDownload{}, Wrap(KindInternal, fmt.Errorf("round %d's %s kit: head revision %d is missing: %w", round, kit, head.Revision.Number, err), "")
	}
	if err != nil {
		return KitDownload{}, err
	}
	var doc KitDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return KitDownload{}, fmt.Errorf("decode kit revision %s: %w", head.Revision.Hash, err)
	}
	revs, err := k.Store.KitRevisions(ctx, round, kit)
	if err != nil {
		return KitDownload{}, fmt.Errorf("round %d's %s kit's history: %w", round, kit, err)
	}
	var authors []string
	for _, rev := range slices.Backward(revs) { // oldest first
		if rev.Number <= head.Revision.Number && rev.Author != "" && !slices.Contains(authors, rev.Author) {
			authors = append(authors, rev.Author)
		}
	}
	return KitDownload{Round: r, Kit: kit, Revision: head.Revision, Doc: doc, Document: body, Authors: authors, Source: fmt.Sprintf("%s/kits/%d", k.BaseURL, round), At: k.Now()}, nil
}

// canSeeWholeKits reports whether c may see kits whole, facilitator-only sections and
// all (compare revisions, download them): facilitators of any group, and admins.
func canSeeWholeKits(c Caller) bool { return c.Admin || c.IsFacilitator() }

// FileName is the zip's name: "round-3-core-kit-revision-7.zip".
func (d KitDownload) FileName() string {
	return fmt.Sprintf("round-%d-%s-kit-revision-%d.zip", d.Round.Number, slug(d.Kit, "kit"), d.Revision.Number)
}

// SectionFileName is the name in the zip of the i-th section (from 0): its place and
// its title, "sections/01-welcome.md".
func (d KitDownload) SectionFileName(i int) string {
	width := max(2, len(fmt.Sprint(len(d.Doc.Sections))))
	return fmt.Sprintf("sections/%0*d-%s.md", width, i+1, slug(d.Doc.Sections[i].Title, "section"))
}

// slug is a title as a file name: lower-case letters and digits, hyphens between
// words, at most 60 characters; empty when the title has none.
func slug(title, empty string) string {
	var sb strings.Builder
	n, gap := 0, false
	for _, r := range title {
		if n >= 60 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && n > 0 {
				sb.WriteByte('-')
				n++
			}
			sb.WriteRune(unicode.ToLower(r))
			n++
			gap = false
		} else if r != '\'' && r != '’' {
			gap = true
		}
	}
	if sb.Len() == 0 {
		return empty
	}
	return sb.String()
}

// WriteKitArchive writes a kit as a zip to w, entry by entry:
//
//	ATTRIBUTION.txt       what the kit is, its licence, who wrote it, and what is in the zip
//	kit.json              the revision's JSON document, as stored
//	sections/01-<title>.md each section as Markdown, in the kit's order
func WriteKitArchive(w io.Writer, d KitDownload) error {
	zw := zip.NewWriter(w)
	put := func(name string, body []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: d.Revision.At})
		if err != nil {
			return fmt.Errorf("zip %s: %w", name, err)
		}
		if _, err := f.Write(body); err != nil {
			return fmt.Errorf("zip %s: %w", name, err)
		}
		return nil
	}
	if err := put("ATTRIBUTION.txt", d.attribution()); err != nil {
		return err
	}
	if err := put("kit.json", d.Document); err != nil {
		return err
	}
	for i, s := range d.Doc.Sections {
		if err := put(d.SectionFileName(i), sectionMarkdown(s)); err != nil {
			return err
		}
	}
	if err := writeAgenda(zw, d); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	return nil
}

// writeAgenda puts the agenda into the zip as agenda.csv (one row an item, with the
// minutes each item starts at from the beginning of the event), when the kit has one.
func writeAgenda(zw *zip.Writer, d KitDownload) error {
	if len(d.Doc.Agenda) == 0 {
		return nil
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "agenda.csv", Method: zip.Deflate, Modified: d.Revision.At})
	if err != nil {
		return fmt.Errorf("zip agenda.csv: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"Item", "Starts after (minutes)", "Minutes", "Title", "Kind", "Lead", "Participant notes", "Facilitator notes", "Materials"})
	start := 0
	for i, r := range d.Doc.Agenda {
		w.Write([]string{strconv.Itoa(i + 1), strconv.Itoa(start), strconv.Itoa(r.Minutes), csvCell(r.Title), csvCell(r.Kind), csvCell(r.Lead), csvCell(r.ParticipantNotes), csvCell(r.FacilitatorNotes), csvCell(r.Materials)})
		start += r.Minutes
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("zip agenda.csv: %w", err)
	}
	return nil
}

// csvCell keeps a spreadsheet from reading typed text as a formula: a cell that starts
// with =, +, -, @ or a tab gets a leading apostrophe (OWASP's advice on CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// sectionMarkdown is a section as a Markdown file: its fields as YAML front matter (each
// value a JSON string, which YAML reads as a double-quoted scalar), then its body.
func sectionMarkdown(s KitSection) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, f := range [][2]string{{"title", s.Title}, {"kind", s.Kind}, {"audience", s.Audience}, {"id", s.ID}} {
		b.WriteString(f[0] + ": " + jsonString(f[1]) + "\n")
	}
	b.WriteString("---\n\n")
	b.WriteString(s.Body)
	return b.Bytes()
}

// jsonString quotes s as JSON, without escaping HTML's characters.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// licenceAddress is where each licence's text is.
var licenceAddress = map[string]string{
	LicenceOGL:  "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
	LicenceCCBY: "https://creativecommons.org/licenses/by/4.0/",
}

// attribution is the text of ATTRIBUTION.txt.
func (d KitDownload) attribution() []byte {
	var b bytes.Buffer
	day := func(t time.Time) string { return t.In(London).Format("2 January 2006") }
	what := fmt.Sprintf("the %s for round %d", kitWords(d.Kit), d.Round.Number)
	fmt.Fprintf(&b, "%s\n\n", d.Doc.Title)
	fmt.Fprintf(&b, "This is %s", what)
	if d.Round.Title != "" {
		fmt.Fprintf(&b, " (%s)", d.Round.Title)
	}
	fmt.Fprintf(&b, ", revision %d, saved on %s", d.Revision.Number, day(d.Revision.At))
	fmt.Fprintf(&b, ".\nDownloaded on %s from %s\n\n", day(d.At), d.Source)
	fmt.Fprintf(&b, "Licence: %s (%s)\n", LicenceName(d.Doc.Licence), d.Doc.Licence)
	if addr := licenceAddress[d.Doc.Licence]; addr != "" {
		fmt.Fprintf(&b, "%s\n", addr)
	}
	b.WriteString("\nWritten by:\n")
	for _, a := range d.Authors {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	fmt.Fprintf(&b, "\nWhen you use or adapt it, say where it came from, for example:\n\"Based on %s, revision %d, from Peer Groups (%s); licence %s.\"\n", what, d.Revision.Number, d.Source, LicenceName(d.Doc.Licence))
	b.WriteString("\nIn this zip:\n")
	fmt.Fprintf(&b, "- kit.json: the whole kit as one JSON document (revision %d, SHA-256 %s)\n", d.Revision.Number, d.Revision.Hash)
	for i, s := range d.Doc.Sections {
		who := "for participants"
		if s.FacilitatorOnly() {
			who = "for facilitators only: do not hand it out"
		}
		fmt.Fprintf(&b, "- %s: %s (%s, %s)\n", d.SectionFileName(i), s.Title, s.Kind, who)
	}
	if len(d.Doc.Agenda) > 0 {
		fmt.Fprintf(&b, "- agenda.csv: the agenda, %d items (its facilitator notes are for facilitators only)\n", len(d.Doc.Agenda))
	}
	return b.Bytes()
}
