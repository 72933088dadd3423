package web

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
)

// Every email address field is the one shared template in layout.html: no page
// writes its own.
func TestEveryEmailFieldIsTheSharedOne(t *testing.T) {
	users := 0
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, path)
		if err != nil {
			return err
		}
		text := string(b)
		want := 0
		if path == "templates/layout.html" {
			want = 1 // the shared template itself
		}
		if got := strings.Count(text, `type="email"`); got != want {
			t.Errorf("%s writes %d email inputs of its own, want %d: use {{template \"emailInput\" ...}}", path, got, want)
		}
		if strings.Contains(text, `{{template "emailInput"`) {
			users++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// join, register-form, admins, proposal, proposal-form, sign-in, group-admin,
	// manage-link, admin-privacy and the group forms' contact address (layout.html).
	if users != 10 {
		t.Errorf("%d templates use the shared email input, want 10", users)
	}
}

func TestTheSharedEmailInputMarkup(t *testing.T) {
	tmpl, err := pages["sign-in"]()
	if err != nil {
		t.Fatal(err)
	}
	render := func(t *testing.T, args map[string]any) string {
		t.Helper()
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "emailInput", args); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	tests := []struct {
		name      string
		args      map[string]any
		want, not []string
	}{
		{
			name: "plain",
			args: map[string]any{"Name": "email", "Label": "Email address", "Value": "ada@example.org"},
			want: []string{
				`<div class="govuk-form-group">`,
				`<label class="govuk-label govuk-label--s" for="email">Email address</label>`,
				`<input class="govuk-input" id="email" name="email" type="email" autocomplete="email" spellcheck="false" maxlength="254" value="ada@example.org">`,
			},
			not: []string{"aria-describedby", "govuk-hint", "govuk-error-message"},
		},
		{
			name: "with a hint and an error",
			args: map[string]any{"Name": "email", "Label": "Email address", "Hint": "Use your work email address", "Error": "Enter an email address", "Value": ""},
			want: []string{
				`<div class="govuk-form-group govuk-form-group--error">`,
				`<div id="email-hint" class="govuk-hint">Use your work email address</div>`,
				`<p id="email-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> Enter an email address</p>`,
				`<input class="govuk-input govuk-input--error" id="email" name="email" type="email" autocomplete="email" spellcheck="false" maxlength="254" value="" aria-describedby="email-hint email-error">`,
			},
		},
		{
			name: "with a hint",
			args: map[string]any{"Name": "contact", "Label": "Contact", "Hint": "Where to write", "Value": "", "Autocomplete": "off"},
			want: []string{`id="contact" name="contact" type="email" autocomplete="off" spellcheck="false" maxlength="254" value="" aria-describedby="contact-hint">`},
			not:  []string{"contact-error"},
		},
		{
			name: "with an error, and text to escape",
			args: map[string]any{"Name": "email", "Label": "Email address", "Error": "Enter an email address like name@example.org", "Value": `"><script>alert(1)</script>`},
			want: []string{
				`value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" aria-describedby="email-error">`,
				`<p id="email-error" class="govuk-error-message">`,
			},
			not: []string{"<script>", "email-hint"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(t, tt.args)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %s\nin %s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("has %s\nin %s", n, got)
				}
			}
		})
	}
}
