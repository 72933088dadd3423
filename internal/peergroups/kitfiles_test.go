package peergroups_test

import (
	"reflect"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func fileDoc(files ...pg.KitFile) pg.KitDoc {
	return pg.KitDoc{Title: "Kit", Licence: pg.LicenceOGL, Sections: []pg.KitSection{{ID: "s-1", Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: "Handout"}}, Files: files}
}

func TestMergeKitsKeepsFilesAddedOnEitherSideAndMergesTheirFields(t *testing.T) {
	slides := pg.KitFile{ID: "f-1", Title: "Slides", Name: "slides.pdf", Type: "application/pdf", Size: 10, Blob: strings.Repeat("a", 64)}
	handout := pg.KitFile{ID: "f-2", Title: "Handout", Name: "h.docx", Type: "text/plain", Size: 5, Blob: strings.Repeat("b", 64)}
	exercise := pg.KitFile{ID: "f-3", Title: "Exercise", Name: "e.txt", Type: "text/plain", Size: 3, Blob: strings.Repeat("c", 64)}
	base := fileDoc(slides)

	// Each side adds a file: both land, theirs first.
	merged, clashes := pg.MergeKits(base, fileDoc(slides, handout), fileDoc(slides, exercise))
	if len(clashes) > 0 || !reflect.DeepEqual(merged.Files, []pg.KitFile{slides, exercise, handout}) {
		t.Errorf("both added: got %+v, clashes %v", merged.Files, clashes)
	}
	// The same file added on both sides (one upload's form sent twice) is there once.
	merged, clashes = pg.MergeKits(base, fileDoc(slides, handout), fileDoc(slides, handout))
	if len(clashes) > 0 || len(merged.Files) != 2 {
		t.Errorf("same file twice: got %+v, clashes %v", merged.Files, clashes)
	}
	// One side gives it an HTML alternative, the other a new title: both kept.
	withAlt, retitled := slides, slides
	withAlt.Alternative, retitled.Title = "s-1", "Opening slides"
	merged, clashes = pg.MergeKits(base, fileDoc(withAlt), fileDoc(retitled))
	if want := (pg.KitFile{ID: "f-1", Title: "Opening slides", Name: "slides.pdf", Type: "application/pdf", Size: 10, Blob: slides.Blob, Alternative: "s-1"}); len(clashes) > 0 || len(merged.Files) != 1 || merged.Files[0] != want {
		t.Errorf("fields: got %+v, clashes %v", merged.Files, clashes)
	}
	// Both retitle it differently: a clash.
	other := slides
	other.Title = "Talk"
	if _, clashes = pg.MergeKits(base, fileDoc(retitled), fileDoc(other)); len(clashes) != 1 || clashes[0].Field != "file title" {
		t.Errorf("titles: clashes %+v, want one on the file title", clashes)
	}
	// Removed on one side, unchanged on the other: removed.
	if merged, clashes = pg.MergeKits(base, fileDoc(), fileDoc(slides)); len(clashes) > 0 || len(merged.Files) != 0 {
		t.Errorf("removed: got %+v, clashes %v", merged.Files, clashes)
	}
	// A kit with no files merges as before and encodes without a files field.
	merged, _ = pg.MergeKits(fileDoc(), fileDoc(), fileDoc())
	if b, _, _ := merged.Encode(); strings.Contains(string(b), "files") {
		t.Errorf("a kit without files encodes %s", b)
	}
}

func TestUploadedFileNamesAreMadeSafe(t *testing.T) {
	for _, c := range []struct{ in, typ, want string }{
		{"Slides.pdf", "application/pdf", "Slides.pdf"},
		{`C:\Users\ada\Slides "final".pdf`, "application/pdf", "Slides _final_.pdf"},
		{"../../etc/passwd", "text/plain", "passwd.txt"},
		{"notes\r\nX-Header: evil.txt", "text/plain", "notes__X-Header_ evil.txt"},
		{"photo.JPEG", "image/jpeg", "photo.JPEG"},
		{"report.exe", "application/pdf", "report.exe.pdf"},
		{"...", "text/csv", "file.csv"},
		{strings.Repeat("a", 300) + ".pdf", "application/pdf", strings.Repeat("a", 116) + ".pdf"},
	} {
		if got := pg.SafeFileName(c.in, c.typ); got != c.want {
			t.Errorf("SafeFileName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFilesWithoutAnHTMLAlternativeAreTasksLeft(t *testing.T) {
	d := fileDoc(pg.KitFile{ID: "f-1", Title: "With", Alternative: "s-1"}, pg.KitFile{ID: "f-2", Title: "Without"}, pg.KitFile{ID: "f-3", Title: "Gone", Alternative: "s-9"})
	var titles []string
	for _, f := range d.FilesWithoutAlternative() {
		titles = append(titles, f.Title)
	}
	if !reflect.DeepEqual(titles, []string{"Without", "Gone"}) {
		t.Errorf("tasks: %v", titles)
	}
	if errs := pg.ValidateKitFile(pg.KitFile{Title: "", Alternative: "s-9"}, d); errs.For("title") == "" || errs.For("alternative") == "" {
		t.Errorf("validate: %v", errs)
	}
}
