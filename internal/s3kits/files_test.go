package s3kits_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/peergroups/peergroups/internal/s3kits"
)

// zipOf returns a ZIP with the named entries (the first stored, as OpenDocument's
// mimetype must be).
func zipOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, e := range entries {
		method := zip.Deflate
		if i == 0 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFilesAreTypedByTheirContentNotTheirName(t *testing.T) {
	for _, c := range []struct {
		name, file string
		body       []byte
		want       string
	}{
		{"a PDF", "slides.pdf", []byte("%PDF-1.7\n1 0 obj\n"), "application/pdf"},
		{"a PNG", "x.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"a JPEG", "x.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "image/jpeg"},
		{"a CSV", "agenda.csv", []byte("minutes,title\n10,Welcome\n"), "text/csv"},
		{"text", "notes.txt", []byte("Plain notes.\n"), "text/plain"},
		{"HTML named .pdf", "evil.pdf", []byte("<!DOCTYPE html><script>alert(1)</script>"), "text/html"},
		{"a program named .pdf", "setup.pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...), "application/octet-stream"},
		{"a PPTX", "talk.pptx", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"ppt/presentation.xml", "<p/>"}), "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"a DOCX", "h.docx", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w/>"}), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"an ODP", "talk.odp", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.presentation"}, [2]string{"content.xml", "<c/>"}), "application/vnd.oasis.opendocument.presentation"},
		{"an ODT", "h.odt", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<c/>"}), "application/vnd.oasis.opendocument.text"},
		{"another ZIP named .pptx", "talk.pptx", zipOf(t, [2]string{"readme.txt", "hello"}), "application/zip"},
		{"a broken ZIP", "talk.pptx", []byte("PK\x03\x04 not really"), ""},
	} {
		first := c.body[:min(len(c.body), 512)]
		got, err := s3kits.Sniff(first, bytes.NewReader(c.body), int64(len(c.body)), c.file)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}
