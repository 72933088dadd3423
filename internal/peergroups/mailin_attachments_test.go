package peergroups_test

import (
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestAnAttachmentDownloadsUnderASafeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Agenda notes.pdf":         "Agenda notes.pdf",
		"invoice\u202Efdp.exe":     "invoice_fdp.exe",
		"../../etc/passwd":         "_.._etc_passwd",
		`a"b;c\r\nd.txt`:           "a_b_c_r_nd.txt",
		"":                         "attachment",
		"...":                      "attachment",
		"Résumé 2026.docx":         "Résumé 2026.docx",
		"name\x00with\x07ctrl.txt": "name_with_ctrl.txt",
	} {
		if got := pg.AttachmentFileName(in); got != want {
			t.Errorf("AttachmentFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
