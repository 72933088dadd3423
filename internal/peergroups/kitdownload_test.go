package peergroups_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
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
		Doc:      doc, Document: body, Authors: []string{"ada@example.org", "bob@example.org"},
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
		"Downloaded on 1 December 2026 from https://peergroups.example/kits/3",
		"Licence: Open Government Licence v3.0 (OGL-3.0)\nhttps://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
		"Written by:\n- ada@example.org\n- bob@example.org\n",
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
