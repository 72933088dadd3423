package web

import (
	"bytes"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Templates are parsed on first use; this test parses and renders every one, so that
// a broken template fails here rather than in front of a person.
func TestEveryPageTemplateRenders(t *testing.T) {
	for _, name := range pageNames {
		tmpl, err := pages[name]()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		p := page{Title: "A title", Errors: pg.FieldErrors{{Field: "name", Message: "Enter your full name"}}, Chosen: map[string]bool{}}
		if err := tmpl.ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(buf.String(), `<main class="govuk-main-wrapper" id="main-content">`) {
			t.Errorf("%s: no main landmark", name)
		}
	}
}
