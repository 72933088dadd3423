package peergroups_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func download(sections ...pg.KitSection) pg.KitDownload {
	doc := kitDoc(sections...)
	body, hash, _ := doc.Encode()
	return pg.KitDownload{
		Round: pg.Round{Number: 3, Title: "User research"}, Kit: pg.CoreKit,
		Revision: pg.KitRevision{Number: 7, Hash: hash, At: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)},
		Doc:      doc, Document: body, Authors: []string{"Ada Lovelace", "a facilitator"},
		Source: "https://peergroups.example/kits/3", At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	}
}

// unzip reads a zip's files by name.
func unzip(t *testing.T, b []byte) (names []string, files map[string]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files = map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		names = append(names, f.Name)
		files[f.Name] = string(body)
	}
	return names, files
}

func TestAKitZipHasItsSectionsAsMarkdownItsDocumentAndItsAttribution(t *testing.T) {
	notes := section("s-2", "Running the session: Part 2 / “notes”", "Keep time.\n")
	notes.Audience = pg.AudienceFacilitator
	d := download(section("s-1", "Welcome!", "# Hello\n\nWe start at ten.\n"), notes, section("s-3", "", ""), section("s-4", "Café crème", "x\n"))
	var b bytes.Buffer
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, b.Bytes())
	want := []string{"ATTRIBUTION.txt", "kit.json", "sections/01-welcome.md", "sections/02-running-the-session-part-2-notes.md", "sections/03-section.md", "sections/04-café-crème.md"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files %q, want %q", names, want)
	}
	if files["kit.json"] != string(d.Document) {
		t.Error("kit.json is not the stored document")
	}
	if got := files["sections/01-welcome.md"]; got != "---\ntitle: \"Welcome!\"\nkind: \"handout\"\naudience: \"participant\"\nid: \"s-1\"\n---\n\n# Hello\n\nWe start at ten.\n" {
		t.Errorf("a section's Markdown:\n%s", got)
	}
	if got := files["sections/02-running-the-session-part-2-notes.md"]; !strings.Contains(got, `title: "Running the session: Part 2 / “notes”"`) || !strings.Contains(got, `audience: "facilitator"`) {
		t.Errorf("a facilitators' section:\n%s", got)
	}
	att := files["ATTRIBUTION.txt"]
	for _, w := range []string{
		"Research with users\n",
		"This is the core kit for round 3 (User research), revision 7, saved on 27 November 2026.",
		"From https://peergroups.example/kits/3\n",
		"Licence: Open Government Licence v3.0 (OGL-3.0)\nhttps://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
		"Written by:\n- Ada Lovelace\n- a facilitator\n",
		"\"Based on the core kit for round 3, revision 7, from Peer Groups (https://peergroups.example/kits/3); licence Open Government Licence v3.0.\"",
		"- kit.json: the whole kit as one JSON document (revision 7, SHA-256 " + d.Revision.Hash + ")",
		"- sections/01-welcome.md: Welcome! (handout, for participants)",
		"- sections/02-running-the-session-part-2-notes.md: Running the session: Part 2 / “notes” (handout, for facilitators only: do not hand it out)",
	} {
		if !strings.Contains(att, w) {
			t.Errorf("ATTRIBUTION.txt does not say %q:\n%s", w, att)
		}
	}
	if name := d.FileName(); name != "round-3-core-kit-revision-7.zip" {
		t.Errorf("zip name %q", name)
	}
}

// writes records the size of each write.
type writes struct{ sizes []int }

func (w *writes) Write(p []byte) (int, error) { w.sizes = append(w.sizes, len(p)); return len(p), nil }

func TestAKitZipIsWrittenAsItIsMadeNotHeldWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var secs []pg.KitSection
	for i := range 20 {
		body := make([]byte, 40000)
		for j := range body {
			body[j] = byte('a' + r.IntN(26)) // does not compress much
		}
		secs = append(secs, section("s-"+string(rune('a'+i)), "Part", string(body)))
	}
	var w writes
	if err := pg.WriteKitArchive(&w, download(secs...)); err != nil {
		t.Fatal(err)
	}
	total, biggest := 0, 0
	for _, n := range w.sizes {
		total, biggest = total+n, max(biggest, n)
	}
	if total < 400000 || biggest > 64<<10 {
		t.Errorf("%d bytes written, the biggest write %d bytes: the zip is held whole before it is written", total, biggest)
	}
}

func TestAKitZipHasItsAgendaAsCSVThatNoSpreadsheetRunsAsAFormula(t *testing.T) {
	d := download(section("s-1", "Welcome", "Hello\n"))
	d.Doc.Agenda = []pg.AgendaRow{
		{ID: "a-1", Minutes: 15, Title: "Welcome, and why we are here", Kind: "talk", Lead: "Ada"},
		{ID: "a-2", Minutes: 45, Title: "=HYPERLINK(\"http://evil.example\")", Kind: "exercise", FacilitatorNotes: "Split into pairs.\nKeep time."},
	}
	var b bytes.Buffer
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, b.Bytes())
	rows, err := csv.NewReader(strings.NewReader(files["agenda.csv"])).ReadAll()
	if err != nil {
		t.Fatalf("agenda.csv: %v\n%s", err, files["agenda.csv"])
	}
	if len(rows) != 3 || rows[1][3] != "Welcome, and why we are here" || rows[2][1] != "15" || rows[2][7] != "Split into pairs.\nKeep time." {
		t.Errorf("agenda.csv rows: %q", rows)
	}
	if !strings.HasPrefix(rows[2][3], "'=") {
		t.Errorf("a title that starts with = is %q: a spreadsheet would run it", rows[2][3])
	}
	if !strings.Contains(files["ATTRIBUTION.txt"], "- agenda.csv: the agenda, 2 items") {
		t.Errorf("ATTRIBUTION.txt does not list the agenda:\n%s", files["ATTRIBUTION.txt"])
	}
}

// withFiles is a download with an agenda, a facilitators' section and two files, one
// of them the slides whose HTML alternative is for participants.
func withFiles() (pg.KitDownload, map[string][]byte) {
	notes := section("s-2", "Running it", "Watch the clock.\n")
	notes.Audience = pg.AudienceFacilitator
	d := download(section("s-1", "Welcome", "Hello\n"), notes)
	d.Doc.Agenda = []pg.AgendaRow{
		{ID: "a-1", Minutes: 15, Title: "Welcome", Kind: "welcome", ParticipantNotes: "Coffee.", FacilitatorNotes: "Greet at the door."},
		{ID: "a-2", Minutes: 50, Title: "Exercise", Kind: "activity", Materials: "Sticky notes"},
	}
	blobs := map[string][]byte{"aaa": []byte("%PDF-1.4 the slides"), "bbb": []byte("the facilitators' guide")}
	d.Doc.Files = []pg.KitFile{
		{ID: "f-1", Title: "Slides", Name: "Opening slides.pdf", Type: "application/pdf", Size: int64(len(blobs["aaa"])), Blob: "aaa", Alternative: "s-1"},
		{ID: "f-2", Title: "Guide", Name: "../guide.txt", Type: "text/plain", Size: int64(len(blobs["bbb"])), Blob: "bbb", Alternative: "s-2"},
	}
	d.Open = func(blob string) (io.ReadCloser, error) {
		b, ok := blobs[blob]
		if !ok {
			return nil, pg.Errorf(pg.KindNotFound, "")
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return d, blobs
}

func TestAKitZipHasItsFilesAndRunSheetsAndAMembersHasNothingOfTheFacilitators(t *testing.T) {
	d, blobs := withFiles()
	var b bytes.Buffer
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, b.Bytes())
	want := "ATTRIBUTION.txt kit.json sections/01-welcome.md sections/02-running-it.md agenda.csv run-sheet-facilitators.html run-sheet-participants.html files/01-Opening slides.pdf files/02-guide.txt"
	if strings.Join(names, " ") != want {
		t.Errorf("files %q, want %q", strings.Join(names, " "), want)
	}
	if files["files/01-Opening slides.pdf"] != string(blobs["aaa"]) || files["files/02-guide.txt"] != string(blobs["bbb"]) {
		t.Error("the files are not as uploaded")
	}
	if fac := files["run-sheet-facilitators.html"]; !strings.Contains(fac, "Greet at the door.") || !strings.Contains(fac, "0:15 to 1:05") || !strings.Contains(fac, "Sticky notes") {
		t.Errorf("the facilitators' run sheet:\n%s", fac)
	}
	if p := files["run-sheet-participants.html"]; strings.Contains(p, "Greet at the door.") || strings.Contains(p, "Sticky notes") || !strings.Contains(p, "Coffee.") {
		t.Errorf("the participants' run sheet:\n%s", p)
	}

	// A member's zip: no kit.json (it has everything), no facilitators' section, run
	// sheet, notes or materials, and only the file that says what a participants'
	// section says.
	d.Participant = true
	b.Reset()
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	names, files = unzip(t, b.Bytes())
	want = "ATTRIBUTION.txt sections/01-welcome.md agenda.csv run-sheet-participants.html files/01-Opening slides.pdf"
	if strings.Join(names, " ") != want {
		t.Errorf("a member's files %q, want %q", strings.Join(names, " "), want)
	}
	for name, body := range files {
		for _, secret := range []string{"Watch the clock", "Running it", "Greet at the door", "Sticky notes", "guide", "Facilitator notes"} {
			if strings.Contains(body, secret) {
				t.Errorf("a member's %s has %q:\n%s", name, secret, body)
			}
		}
	}
	if rows, err := csv.NewReader(strings.NewReader(files["agenda.csv"])).ReadAll(); err != nil || len(rows[0]) != 7 {
		t.Errorf("a member's agenda.csv: %q %v", rows, err)
	}
	if name := d.FileName(); name != "round-3-core-kit-for-participants-revision-7.zip" {
		t.Errorf("a member's zip is named %q", name)
	}
}

func TestAKitZipTimesItsRunSheetFromTheGroupsEvent(t *testing.T) {
	d, _ := withFiles()
	d.Kit, d.Group = "london", pg.Group{ID: "london", Name: "London"}
	start := time.Date(2027, 3, 4, 10, 0, 0, 0, pg.London)
	d.Event = &pg.Event{GroupID: "london", Start: start, End: start.Add(time.Hour), Venue: "City Hall"}
	var b bytes.Buffer
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, b.Bytes())
	p := files["run-sheet-participants.html"]
	for _, w := range []string{"Run sheet for London: participants", "Thursday 4 March 2027, 10am to 11am, City Hall", "10:15am to 11:05am", "5 minutes longer than the event", `<th scope="row">`} {
		if !strings.Contains(p, w) {
			t.Errorf("the run sheet does not say %q:\n%s", w, p)
		}
	}
	if !strings.Contains(files["ATTRIBUTION.txt"], "This is London’s version of the kit for round 3") {
		t.Errorf("ATTRIBUTION.txt:\n%s", files["ATTRIBUTION.txt"])
	}
}

func TestAKitZipSaysWhichFileIsMissingAndItsKeyChangesWithWhatIsInIt(t *testing.T) {
	d, _ := withFiles()
	whole := d.ZipKey()
	if again := d.ZipKey(); again != whole {
		t.Error("the same download makes two keys")
	}
	d.At = d.At.Add(48 * time.Hour)
	if d.ZipKey() != whole {
		t.Error("the day of the download changes the zip: it could never be made once")
	}
	d.Missing = map[string]bool{"f-2": true}
	missing := d.ZipKey()
	var b bytes.Buffer
	if err := pg.WriteKitArchive(&b, d); err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, b.Bytes())
	if slices.Contains(names, "files/02-guide.txt") || !slices.Contains(names, "files/01-Opening slides.pdf") {
		t.Errorf("files %q", names)
	}
	if att := files["ATTRIBUTION.txt"]; !strings.Contains(att, "Files missing from this zip (tell the network's admins):\n- Guide (../guide.txt, ") || !strings.Contains(att, "MISSING. It could not be found when this zip was made") {
		t.Errorf("ATTRIBUTION.txt does not say the guide is missing:\n%s", att)
	}
	d.Missing = nil
	d.Participant = true
	for _, k := range []string{whole, missing} {
		if d.ZipKey() == k {
			t.Error("two different zips have one key")
		}
	}
}
