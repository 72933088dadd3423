// A kit as one zip file: its sections as Markdown, its agenda as CSV and as printable
// run sheets, its files, and who to thank for it. The zip is written straight to S3 as
// it is made (nothing holds it whole: the files stream from their objects), at an
// address made of everything in it, so that a second download of the same revision
// takes the zip already made; the browser is sent a short presigned link to it.

package peergroups

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/DataDog/datadog-agent/pkg/template/html"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// KitZipLinkTTL is how long the link to a kit's zip works.
const KitZipLinkTTL = 5 * time.Minute

// KitZips keeps the kits' zips and reads the kits' files for them (S3).
type KitZips interface {
	// HasZip reports whether the zip with a key has been made already.
	HasZip(ctx context.Context, key string) (bool, error)
	// PutZip keeps what write writes as the zip with a key, as it is written, in
	// parts; nothing is kept when write fails.
	PutZip(ctx context.Context, key string, write func(io.Writer) error) error
	// ZipLink presigns a GET of a zip, downloaded as an attachment named name.
	ZipLink(ctx context.Context, key, name string, ttl time.Duration) (string, error)
	// HasBlob reports whether a file's content (by its SHA-256) is there.
	HasBlob(ctx context.Context, blob string) (bool, error)
	// OpenBlob opens a file's content to read it as it streams; a KindNotFound error
	// when it is not there.
	OpenBlob(ctx context.Context, blob string) (io.ReadCloser, error)
}

// KitDownloads make the kits' zips: whole for facilitators and admins, and, for a
// group's members, its version of the kit as its participants see it.
type KitDownloads struct {
	Kits     *Kits
	Variants *KitVariants // lineage for the attribution, groups, and who is a member
	Zips     KitZips
}

// KitDownload is a revision of a kit, with what its download says about it.
type KitDownload struct {
	Round    Round
	Kit      string // CoreKit, or a group's ID for its variant
	Revision KitRevision
	Doc      KitDoc
	Document []byte   // the revision's JSON document, as stored (its SHA-256 is Revision.Hash)
	Authors  []string // who saved its revisions up to this one, first to last, each once, by name
	Source   string   // the kit's address on the service
	// At is when the zip is made; the zip does not say it (the same revision makes the
	// same zip, which is kept and downloaded again).
	At time.Time
	// Participant is a member's download: no facilitator-only section, no facilitators'
	// notes, no kit.json, and only the files whose HTML alternative is for participants.
	Participant bool
	// Lineage is a variant's attribution ("Based on London’s version, revision 7, …").
	Lineage string
	// Group is the variant's group, and Event its event for the round, which times the
	// run sheets (nil: times from the start).
	Group Group
	Event *Event
	// Missing are the files (by ID) whose content could not be found: the zip says so.
	Missing map[string]bool
	// Open opens a file's content by its SHA-256; nil writes no file (each is listed
	// as missing).
	Open func(blob string) (io.ReadCloser, error)
}

// Link makes a round's kit (CoreKit, or a group's version) into a zip, unless it has
// been made already, and returns a short link to it.
func (k *KitDownloads) Link(ctx context.Context, c Caller, round int, kit string) (string, error) {
	d, err := k.Download(ctx, c, round, kit)
	if err != nil {
		return "", err
	}
	for _, f := range d.files() {
		ok, err := k.Zips.HasBlob(ctx, f.Blob)
		if err != nil {
			return "", fmt.Errorf("round %d's %s kit: file %s: %w", round, kit, f.ID, err)
		}
		if !ok {
			if d.Missing == nil {
				d.Missing = map[string]bool{}
			}
			d.Missing[f.ID] = true
		}
	}
	d.Open = func(blob string) (io.ReadCloser, error) { return k.Zips.OpenBlob(ctx, blob) }
	key := d.ZipKey()
	made, err := k.Zips.HasZip(ctx, key)
	if err != nil {
		return "", err
	}
	if !made {
		if err := k.Zips.PutZip(ctx, key, func(w io.Writer) error { return WriteKitArchive(w, d) }); err != nil {
			return "", Wrap(KindUnavailable, fmt.Errorf("make round %d's %s kit zip: %w", round, kit, err), "The zip could not be made just now. Try again in a few minutes.")
		}
	}
	return k.Zips.ZipLink(ctx, key, d.FileName(), KitZipLinkTTL)
}

// Download returns the head revision of one of a round's kits, to download: whole for
// facilitators and admins; a group's members get its version as participants see it.
func (k *KitDownloads) Download(ctx context.Context, c Caller, round int, kit string) (KitDownload, error) {
	if !validKitName(kit) {
		return KitDownload{}, Errorf(KindNotFound, "Round %d has no such kit.", round)
	}
	participant := false
	if !canSeeWholeKits(c) {
		if !c.SignedIn() || kit == CoreKit {
			return KitDownload{}, ErrForbidden
		}
		p, err := k.Variants.People.Person(ctx, c.Email)
		if err != nil && KindOf(err) != KindNotFound {
			return KitDownload{}, err
		}
		if !p.IsMember(kit) {
			return KitDownload{}, ErrForbidden
		}
		participant = true
	}
	r, err := k.Kits.round(ctx, round)
	if err != nil {
		return KitDownload{}, err
	}
	head, err := k.Kits.Store.KitHead(ctx, round, kit)
	if KindOf(err) == KindNotFound {
		return KitDownload{}, Errorf(KindNotFound, "Round %d’s %s has not been written yet.", round, kitWords(kit))
	}
	if err != nil {
		return KitDownload{}, err
	}
	body, err := k.Kits.Objects.KitObject(ctx, head.Revision.Hash)
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
	revs, err := k.Kits.Store.KitRevisions(ctx, round, kit)
	if err != nil {
		return KitDownload{}, fmt.Errorf("round %d's %s kit's history: %w", round, kit, err)
	}
	var emails []string
	for _, rev := range slices.Backward(revs) { // oldest first
		if rev.Number <= head.Revision.Number && rev.Author != "" && !slices.Contains(emails, rev.Author) {
			emails = append(emails, rev.Author)
		}
	}
	authors, err := k.authorNames(ctx, emails)
	if err != nil {
		return KitDownload{}, err
	}
	d := KitDownload{Round: r, Kit: kit, Revision: head.Revision, Doc: doc, Document: body, Authors: authors, Source: k.Kits.BaseURL + kitPathOf(round, kit), At: k.Kits.Now(), Participant: participant}
	if kit != CoreKit {
		if d.Group, err = k.Variants.group(ctx, kit); err != nil {
			return KitDownload{}, err
		}
		l, err := k.Variants.Store.KitLineage(ctx, round, kit)
		if err != nil {
			return KitDownload{}, fmt.Errorf("round %d's %s kit's lineage: %w", round, kit, err)
		}
		if d.Lineage, err = k.Variants.attribution(ctx, r, l, doc.Licence); err != nil {
			return KitDownload{}, err
		}
		events, err := k.Kits.Rounds.Events(ctx, round)
		if err != nil {
			return KitDownload{}, fmt.Errorf("round %d's events: %w", round, err)
		}
		if i := slices.IndexFunc(events, func(e Event) bool { return e.GroupID == kit }); i >= 0 {
			d.Event = &events[i]
		}
	}
	return d, nil
}

// authorNames names the people who saved a kit as their profiles do, never by their
// email addresses: those with no name are "a facilitator" ("2 other facilitators"),
// and those erased since are FormerFacilitator or FormerAdmin.
func (k *KitDownloads) authorNames(ctx context.Context, emails []string) ([]string, error) {
	var names []string
	unnamed := 0
	for _, e := range emails {
		if IsFormer(e) {
			if !slices.Contains(names, e) {
				names = append(names, e)
			}
			continue
		}
		p, err := k.Variants.People.Person(ctx, e)
		if err != nil && KindOf(err) != KindNotFound {
			return nil, fmt.Errorf("name of a kit's author: %w", err)
		}
		name := strings.Join(strings.Fields(p.Profile.Name), " ")
		if name == "" || strings.Contains(name, "@") {
			unnamed++
			continue
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	switch {
	case unnamed == 1 && len(names) == 0:
		names = append(names, "a facilitator")
	case unnamed == 1:
		names = append(names, "another facilitator")
	case unnamed > 1 && len(names) == 0:
		names = append(names, fmt.Sprintf("%d facilitators", unnamed))
	case unnamed > 1:
		names = append(names, fmt.Sprintf("%d other facilitators", unnamed))
	}
	return names, nil
}

// canSeeWholeKits reports whether c may see kits whole, facilitator-only sections and
// all (compare revisions, download them): facilitators of any group, and admins.
func canSeeWholeKits(c Caller) bool { return c.Admin || c.IsFacilitator() }

// FileName is the zip's name: "round-3-core-kit-revision-7.zip",
// "round-3-london-kit-for-participants-revision-2.zip".
func (d KitDownload) FileName() string {
	who := ""
	if d.Participant {
		who = "-for-participants"
	}
	return fmt.Sprintf("round-%d-%s-kit%s-revision-%d.zip", d.Round.Number, slug(d.Kit, "kit"), who, d.Revision.Number)
}

// sections are the sections in the zip: a member's leave out the facilitators' own.
func (d KitDownload) sections() []KitSection {
	if d.Participant {
		return participantDoc(d.Doc).Sections
	}
	return d.Doc.Sections
}

// files are the files in the zip: a member's has only those whose HTML alternative
// is a section for participants (a file says what its alternative says).
func (d KitDownload) files() []KitFile {
	if !d.Participant {
		return d.Doc.Files
	}
	var out []KitFile
	for _, f := range d.Doc.Files {
		if s, ok := d.Doc.Section(f.Alternative); ok && !s.FacilitatorOnly() {
			out = append(out, f)
		}
	}
	return out
}

// SectionFileName is the name in the zip of the i-th section (from 0) of the zip's
// sections: its place and its title, "sections/01-welcome.md".
func (d KitDownload) SectionFileName(i int) string {
	secs := d.sections()
	width := max(2, len(fmt.Sprint(len(secs))))
	return fmt.Sprintf("sections/%0*d-%s.md", width, i+1, slug(secs[i].Title, "section"))
}

// fileName is the name in the zip of the i-th file (from 0): its place and its own
// name, "files/01-Opening slides.pdf".
func (d KitDownload) fileName(i int) string {
	files := d.files()
	width := max(2, len(fmt.Sprint(len(files))))
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '-'
		}
		return r
	}, files[i].Name)
	name = strings.TrimLeft(name, ". -")
	if name == "" {
		name = slug(files[i].Title, "file")
	}
	return fmt.Sprintf("files/%0*d-%s", width, i+1, name)
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

// zipEntry is a file of the zip made from the kit's document.
type zipEntry struct {
	name string
	body []byte
}

// Run sheets' names in the zip.
const (
	runSheetFacilitators = "run-sheet-facilitators.html"
	runSheetParticipants = "run-sheet-participants.html"
)

// entries are the zip's files made from the document, in order, before its files.
func (d KitDownload) entries() ([]zipEntry, error) {
	out := []zipEntry{{"ATTRIBUTION.txt", d.attribution()}}
	if !d.Participant {
		out = append(out, zipEntry{"kit.json", d.Document})
	}
	for i, s := range d.sections() {
		out = append(out, zipEntry{d.SectionFileName(i), sectionMarkdown(s)})
	}
	if len(d.Doc.Agenda) == 0 {
		return out, nil
	}
	csv, err := d.agendaCSV()
	if err != nil {
		return nil, err
	}
	out = append(out, zipEntry{"agenda.csv", csv})
	views := []string{RunSheetFacilitator, RunSheetParticipant}
	if d.Participant {
		views = views[1:]
	}
	for _, view := range views {
		b, err := d.runSheetHTML(view)
		if err != nil {
			return nil, err
		}
		name := runSheetParticipants
		if view == RunSheetFacilitator {
			name = runSheetFacilitators
		}
		out = append(out, zipEntry{name, b})
	}
	return out, nil
}

// ZipKey is the zip's address: the SHA-256 of everything in it (its files by their
// own SHA-256), so that the same revision, seen the same way, makes the same key.
func (d KitDownload) ZipKey() string {
	entries, err := d.entries()
	if err != nil {
		// Cannot happen with the templates this package parses; a key that is
		// never reused then.
		entries = []zipEntry{{"error", []byte(err.Error() + d.At.String())}}
	}
	h := sha256.New()
	io.WriteString(h, "peergroups kit zip 1\n")
	for _, e := range entries {
		sum := sha256.Sum256(e.body)
		fmt.Fprintf(h, "%q %x\n", e.name, sum)
	}
	for i, f := range d.files() {
		fmt.Fprintf(h, "%q %s %v\n", d.fileName(i), f.Blob, d.Missing[f.ID] || d.Open == nil)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteKitArchive writes a kit as a zip to w, entry by entry, each file streamed from
// its content:
//
//	ATTRIBUTION.txt                what the kit is, its licence, who wrote it, what is in the zip
//	kit.json                       the revision's JSON document, as stored (not for participants)
//	sections/01-<title>.md         each section as Markdown, in the kit's order
//	agenda.csv                     the agenda
//	run-sheet-facilitators.html    the agenda timed, to print (not for participants)
//	run-sheet-participants.html
//	files/01-<name>                each file, as uploaded
func WriteKitArchive(w io.Writer, d KitDownload) error {
	entries, err := d.entries()
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, e := range entries {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: d.Revision.At})
		if err != nil {
			return fmt.Errorf("zip %s: %w", e.name, err)
		}
		if _, err := f.Write(e.body); err != nil {
			return fmt.Errorf("zip %s: %w", e.name, err)
		}
	}
	for i, file := range d.files() {
		if d.Missing[file.ID] || d.Open == nil {
			continue
		}
		if err := d.writeFile(zw, d.fileName(i), file); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	return nil
}

// compressed are the files' types that are compressed already: stored as they are.
var compressed = map[string]bool{
	"application/pdf": true, "image/png": true, "image/jpeg": true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.oasis.opendocument.presentation":                           true,
	"application/vnd.oasis.opendocument.text":                                   true,
}

// writeFile streams one file into the zip; its size must be the kit's record of it.
func (d KitDownload) writeFile(zw *zip.Writer, name string, file KitFile) error {
	method := zip.Deflate
	if compressed[file.Type] {
		method = zip.Store
	}
	rc, err := d.Open(file.Blob)
	if err != nil {
		return fmt.Errorf("zip %s: open %s: %w", name, file.Blob, err)
	}
	defer rc.Close()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: d.Revision.At})
	if err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(rc, MaxKitFileSize+1))
	if err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	if n != file.Size {
		return fmt.Errorf("zip %s: read %d bytes of %s, the kit says %d", name, n, file.Blob, file.Size)
	}
	return nil
}

// agendaCSV is the agenda as CSV (one row an item, with the minutes each item starts
// at from the beginning of the event); a member's has no facilitators' columns.
func (d KitDownload) agendaCSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"Item", "Starts after (minutes)", "Minutes", "Title", "Kind", "Lead", "Participant notes", "Facilitator notes", "Materials"}
	if d.Participant {
		head = head[:7]
	}
	w.Write(head)
	start := 0
	for i, r := range d.Doc.Agenda {
		row := []string{strconv.Itoa(i + 1), strconv.Itoa(start), strconv.Itoa(r.Minutes), csvCell(r.Title), csvCell(r.Kind), csvCell(r.Lead), csvCell(r.ParticipantNotes), csvCell(r.FacilitatorNotes), csvCell(r.Materials)}
		w.Write(row[:len(head)])
		start += r.Minutes
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("zip agenda.csv: %w", err)
	}
	return b.Bytes(), nil
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
	if d.Kit != CoreKit && d.Group.Name != "" {
		what = fmt.Sprintf("%s version of the kit for round %d", Possessive(d.Group.Name), d.Round.Number)
	}
	fmt.Fprintf(&b, "%s\n\n", d.Doc.Title)
	fmt.Fprintf(&b, "This is %s", what)
	if d.Round.Title != "" {
		fmt.Fprintf(&b, " (%s)", d.Round.Title)
	}
	fmt.Fprintf(&b, ", revision %d, saved on %s", d.Revision.Number, day(d.Revision.At))
	if d.Participant {
		b.WriteString(", as its participants see it")
	}
	fmt.Fprintf(&b, ".\nFrom %s\n\n", d.Source)
	if d.Lineage != "" {
		fmt.Fprintf(&b, "%s.\n\n", d.Lineage)
	}
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
	if !d.Participant {
		fmt.Fprintf(&b, "- kit.json: the whole kit as one JSON document (revision %d, SHA-256 %s)\n", d.Revision.Number, d.Revision.Hash)
	}
	for i, s := range d.sections() {
		who := "for participants"
		if s.FacilitatorOnly() {
			who = "for facilitators only: do not hand it out"
		}
		fmt.Fprintf(&b, "- %s: %s (%s, %s)\n", d.SectionFileName(i), s.Title, s.Kind, who)
	}
	if len(d.Doc.Agenda) > 0 {
		if d.Participant {
			fmt.Fprintf(&b, "- agenda.csv: the agenda, %d items\n", len(d.Doc.Agenda))
		} else {
			fmt.Fprintf(&b, "- agenda.csv: the agenda, %d items (its facilitator notes are for facilitators only)\n", len(d.Doc.Agenda))
			fmt.Fprintf(&b, "- %s: the run sheet for facilitators, to print (for facilitators only)\n", runSheetFacilitators)
		}
		fmt.Fprintf(&b, "- %s: the run sheet for participants, to print\n", runSheetParticipants)
	}
	var missing []string
	for i, f := range d.files() {
		if d.Missing[f.ID] || d.Open == nil {
			missing = append(missing, fmt.Sprintf("- %s (%s, %s): MISSING. It could not be found when this zip was made, so it is not in it.\n", f.Title, f.Name, FileSizeText(f.Size)))
			continue
		}
		fmt.Fprintf(&b, "- %s: %s (%s, %s)\n", d.fileName(i), f.Title, FileTypeName(f.Type), FileSizeText(f.Size))
	}
	if len(missing) > 0 {
		b.WriteString("\nFiles missing from this zip (tell the network's admins):\n")
		for _, m := range missing {
			b.WriteString(m)
		}
	}
	return b.Bytes()
}

// runSheetPage is a printable run sheet on its own: one HTML file with its styles.
// Parsed when first used, not at start (the web function's cold start pays for no
// download it may never serve).
var runSheetPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("run-sheet").Funcs(template.FuncMap{
		"minutes": MinutesText,
		"licence": LicenceName,
	}).Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{{.Heading}}</title>
<style>
body { font-family: Arial, sans-serif; font-size: 16px; line-height: 1.4; color: #0b0c0c; margin: 2em; }
h1 { font-size: 28px; margin: 0 0 .5em; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: bold; font-size: 20px; margin-bottom: .5em; }
th, td { border-bottom: 1px solid #b1b4b6; padding: .5em; text-align: left; vertical-align: top; }
td { white-space: pre-wrap; }
.warning { border-left: 5px solid #d4351c; padding-left: 1em; font-weight: bold; }
@media print { body { margin: 0; font-size: 11pt; } h1 { font-size: 18pt; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<p>Round {{.Round.Number}}: {{.Round.Title}}</p>
<h1>{{.Heading}}</h1>
<p>{{.When}}{{.Doc.Title}}, revision {{.Revision}}.</p>
{{if .Overrun}}<p class="warning">Warning: the agenda lasts {{minutes .Minutes}}: {{minutes .Overrun}} longer than the event.</p>{{end}}
<table>
<caption>Agenda{{with .Span}}: {{.}}{{end}}</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Item</th><th scope="col">Notes</th>{{if .Facilitator}}<th scope="col">Materials</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><th scope="row">{{.Time}}</th><td><strong>{{.Title}}</strong>
{{.Kind}}, {{minutes .Minutes}}{{with .Lead}}
Led by {{.}}{{end}}</td><td>{{.ParticipantNotes}}{{if and $.Facilitator .FacilitatorNotes}}{{if .ParticipantNotes}}

{{end}}Facilitators: {{.FacilitatorNotes}}{{end}}</td>{{if $.Facilitator}}<td>{{.Materials}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p>Shared under the {{licence .Doc.Licence}}.</p>
</body>
</html>
`))
})

// runSheetRow is a row of a printed run sheet, with its time in words.
type runSheetRow struct {
	AgendaRow
	Time string
}

// runSheetHTML is the agenda as a printable page, in a view: timed from the group's
// event when it has one, from the start ("0:00 to 0:15") when not.
func (d KitDownload) runSheetHTML(view string) ([]byte, error) {
	facilitator := view == RunSheetFacilitator
	data := struct {
		Round               Round
		Doc                 KitDoc
		Revision            int
		Heading, When, Span string
		Facilitator         bool
		Rows                []runSheetRow
		Minutes, Overrun    int
	}{Round: d.Round, Doc: d.Doc, Revision: d.Revision.Number, Facilitator: facilitator, Minutes: AgendaMinutes(d.Doc.Agenda)}
	who := "participants"
	if facilitator {
		who = "facilitators"
	}
	data.Heading = "Run sheet: " + who
	if d.Group.Name != "" {
		data.Heading = "Run sheet for " + d.Group.Name + ": " + who
	}
	sinceStart := func(m int) string { return fmt.Sprintf("%d:%02d", m/60, m%60) }
	at := 0
	for _, r := range d.Doc.Agenda {
		if !facilitator {
			r.FacilitatorNotes, r.Materials = "", ""
		}
		row := runSheetRow{AgendaRow: r, Time: sinceStart(at) + " to " + sinceStart(at+r.Minutes)}
		if d.Event != nil {
			start := d.Event.Start.Add(time.Duration(at) * time.Minute)
			row.Time = Clock(start) + " to " + Clock(start.Add(time.Duration(r.Minutes)*time.Minute))
		}
		data.Rows = append(data.Rows, row)
		at += r.Minutes
	}
	if d.Event != nil {
		data.When = d.Event.Start.In(London).Format("Monday 2 January 2006") + ", " + Clock(d.Event.Start) + " to " + Clock(d.Event.End)
		if d.Event.Venue != "" {
			data.When += ", " + d.Event.Venue
		}
		data.When += ". "
		data.Span = Clock(d.Event.Start) + " to " + Clock(d.Event.Start.Add(time.Duration(at)*time.Minute))
		if over := int(d.Event.Start.Add(time.Duration(at)*time.Minute).Sub(d.Event.End) / time.Minute); over > 0 {
			data.Overrun = over
		}
	} else {
		data.When = "Times from the start of the event (hours:minutes). "
	}
	var b bytes.Buffer
	if err := runSheetPage().Execute(&b, data); err != nil {
		return nil, fmt.Errorf("run sheet: %w", err)
	}
	return b.Bytes(), nil
}
