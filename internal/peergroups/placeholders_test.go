package peergroups_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// nastyText is what a facilitator or an admin might type into a round, an event or a
// group, and what an attacker would: Handlebars of every kind, lone braces and
// backslashes, in every position.
var nastyText = []string{
	"", "plain text", "Service assessments {{ and <b>you</b>",
	"{{x}}", "{{{x}}}", "{{{{x}}}}", "{{{{raw}}}}{{x}}{{{{/raw}}}}", "{{#each people}}{{name}}{{/each}}",
	"{{#if a}}yes{{else}}no{{/if}}", "{{^x}}none{{/x}}", "{{> partial}}", "{{!-- comment --}}", "{{! comment }}",
	"{{~x~}}", "{{&x}}", "{{lookup . 'name'}}", "{{name}}", "{{{name}}}", "{{@root.name}}", "{{this}}", "{{.}}",
	"{", "}", "{{", "}}", "{{{", "}}}", "{{{{", "{{{{{", "{ {", "} }", "{}", "}{", "}}{{", "{{}}", "{{{}}}",
	`\`, `\\`, `\\\`, `\{`, `\}`, `\{{`, `\\{{`, `\\\{{`, `\{{x}}`, `\\{{x}}`, `\\\{{x}}`, `\\\\{{x}}`,
	`a\`, `a{`, `{a`, `\a`, `a\{`, `{\`, `\{\{`, `{\{{`, `{{\{{`, `\ {{`, `\{{\`, `{{\`, `C:\{{dir}}\`,
	"{{~!}}", " {{~!}}", `\ {{~!}}`, "{ {{~!}}", "{{!}}", "\n{{!}}\n", "{{x}}\n", "\n{{", "{{\n}}",
	"x{{~y}}", "{{else}}", "{{^}}", "{{/x}}", "{{#x}}", "{{*x}}", "{{\"x\"}}", "{{'x'}}",
	"é{{ü}}", "日本{{語}}", "🙂{{🙂}}\\", "\u00a0{{~!}}\u00a0", "\ufeff{{", "\u2028\\",
	"\x00", "a\x00{{b", "\xff{{", "\xe2\x82", "Smith & Co <script>alert(1)</script> \"quoted\" 'single' `tick` =",
	"Café {{venue}} – Room 1\r\nFloor 2\\", "https://meet.example/{{room}}?a=1&b={{2}}\\",
}

// cleaned is what a template made from s prints: s with invalid UTF-8 and NUL
// replaced, as TemplateText documents.
func cleaned(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// hbCase is one template, the values it is filled with, and what it must print.
type hbCase struct {
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	want     string
}

// contexts puts TemplateText(s) where our emails put typed text: alone, inside HTML,
// between placeholders, next to another field, at the end of a template.
func contexts(s string) []hbCase {
	t, c := pg.TemplateText(s), cleaned(s)
	data := map[string]string{"name": `{{x}}\`, "link": "https://example.org/?a=1&b=2"}
	return []hbCase{
		{Template: t, want: c},
		{Template: "<p>" + t + "</p>", want: "<p>" + c + "</p>"},
		{Template: "Hello {{{name}}}, " + t + "{{{name}}}" + t + "\n{{{link}}}", Data: data, want: "Hello " + data["name"] + ", " + c + data["name"] + c + "\n" + data["link"]},
		{Template: t + t + " – " + t, want: c + c + " – " + c},
		{Template: "Round 1: " + t, want: "Round 1: " + c},
		{Template: t + "\n{{{name}}}\n", Data: data, want: c + "\n" + data["name"] + "\n"},
		{Template: "line\n" + t + "\n\t" + t + " \r\nnext", want: "line\n" + c + "\n\t" + c + " \r\nnext"},
	}
}

func TestTemplateTextPrintsWhatWasTyped(t *testing.T) {
	for _, s := range nastyText {
		for _, tc := range contexts(s) {
			got, err := pg.BulkTemplate{Subject: tc.Template}.Render(pg.BulkDestination{Data: tc.Data})
			if err != nil {
				t.Errorf("TemplateText(%q) in %q: %v", s, tc.Template, err)
				continue
			}
			if got.Subject != tc.want {
				t.Errorf("TemplateText(%q) in %q printed %q, want %q", s, tc.Template, got.Subject, tc.want)
			}
		}
	}
}

// The real check: the SES stand-in's own Handlebars (npm handlebars, through
// aws-ses-v2-local's renderTemplate) prints every nasty text and every input the
// fuzzer kept exactly as typed, in every context; and Render, which the preview and
// reminders use, prints what it prints.
func TestTheStandInsHandlebarsPrintsTemplateTextAsTyped(t *testing.T) {
	inputs := append(append([]string{}, nastyText...), fuzzCorpus(t, "FuzzTemplateText")...)
	var cases []hbCase
	for _, s := range inputs {
		cases = append(cases, contexts(s)...)
	}
	// And the way an email part is built: placeholders whose values carry braces.
	cases = append(cases, hbCase{Template: "{{{a}}}{{{b}}}", Data: map[string]string{"a": "{{", "b": "}}"}, want: "{{}}"})
	results := standInHandlebars(t, cases)
	for i, tc := range cases {
		r := results[i]
		if r.Error != "" || r.Output == nil {
			t.Errorf("the stand-in cannot render %q: %s", tc.Template, r.Error)
			continue
		}
		if *r.Output != tc.want {
			t.Errorf("the stand-in printed %q for %q, want %q", *r.Output, tc.Template, tc.want)
		}
		got, err := pg.BulkTemplate{Text: tc.Template}.Render(pg.BulkDestination{Data: tc.Data})
		if err != nil {
			t.Errorf("Render(%q): %v", tc.Template, err)
		} else if got.Text != *r.Output {
			t.Errorf("Render(%q) = %q, the stand-in printed %q", tc.Template, got.Text, *r.Output)
		}
	}
}

// Render refuses what it does not know rather than print something SES would not.
func TestRenderRefusesTemplatesItDoesNotKnow(t *testing.T) {
	for _, tmpl := range []string{"{{name}}", "{{#each x}}{{/each}}", "{{{missing}}}", "{{> p}}", "{{!-- c --}}", "{{x", "{{{x", "{{{{raw}}}}{{{{/raw}}}}", "{{!}}", "a\n  {{~!}}\n"} {
		if _, err := (pg.BulkTemplate{HTML: tmpl}).Render(pg.BulkDestination{Data: map[string]string{"name": "x"}}); err == nil {
			t.Errorf("Render(%q) did not fail", tmpl)
		}
	}
}

// FuzzTemplateText checks, for any text: that its template has no {{ other than the
// escapes and separators TemplateText writes (so no placeholder, block or partial),
// and that it prints the text back in every context.
func FuzzTemplateText(f *testing.F) {
	for _, s := range nastyText {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tt := pg.TemplateText(s)
		for j := strings.Index(tt, "{{"); j >= 0; j = next(tt, j) {
			escape := j >= 1 && tt[j-1] == '\\' && (j < 2 || tt[j-2] != '\\')
			separator := j >= 1 && tt[j-1] == ' ' && strings.HasPrefix(tt[j:], "{{~!}}")
			insideEscape := j >= 2 && tt[j-2:j] == `\{` // the third brace of \{{{
			first := j == 0 && strings.HasPrefix(tt, "{{!}}}")
			if !escape && !separator && !insideEscape && !first {
				t.Fatalf("TemplateText(%q) = %q has a {{ at %d that is not an escape", s, tt, j)
			}
		}
		if strings.Contains(tt, "\x00") {
			t.Fatalf("TemplateText(%q) = %q holds a NUL", s, tt)
		}
		for _, tc := range contexts(s) {
			got, err := pg.BulkTemplate{HTML: tc.Template}.Render(pg.BulkDestination{Data: tc.Data})
			if err != nil {
				t.Fatalf("TemplateText(%q) in %q: %v", s, tc.Template, err)
			}
			if got.HTML != tc.want {
				t.Fatalf("TemplateText(%q) in %q printed %q, want %q", s, tc.Template, got.HTML, tc.want)
			}
		}
	})
}

func next(s string, j int) int {
	k := strings.Index(s[j+1:], "{{")
	if k < 0 {
		return -1
	}
	return j + 1 + k
}

// fuzzCorpus reads the string inputs kept in testdata/fuzz/<target>.
func fuzzCorpus(t *testing.T, target string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, arg, ok := strings.Cut(strings.TrimSpace(string(b)), "\nstring(")
		if !ok || !strings.HasSuffix(arg, ")") {
			t.Fatalf("%s is not a corpus file of one string", file)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(arg, ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, s)
	}
	if len(files) == 0 {
		t.Fatalf("no corpus in testdata/fuzz/%s", target)
	}
	return out
}

type hbResult struct {
	Output *string `json:"output"`
	Error  string  `json:"error"`
}

// standInHandlebars renders the cases with testdata/handlebars.js. It needs Node and
// `make deps` (npm ci); without them it skips, except in CI, where it fails.
func standInHandlebars(t *testing.T, cases []hbCase) []hbResult {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "node_modules", "aws-ses-v2-local", "dist", "v2", "renderTemplate.js"))
	}
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("PEERGROUPS_STACK") == "1" {
			t.Fatalf("the SES stand-in's Handlebars is missing (run `make deps`): %v", err)
		}
		t.Skipf("needs Node and the SES stand-in (`make deps`): %v", err)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	casesFile := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(casesFile, in, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, filepath.Join("testdata", "handlebars.js"), root, casesFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node handlebars.js: %v\n%s", err, stderr.String())
	}
	var out struct {
		Handlebars string     `json:"handlebars"`
		Results    []hbResult `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("node handlebars.js printed %q: %v", stdout.String(), err)
	}
	if len(out.Results) != len(cases) {
		t.Fatalf("node handlebars.js rendered %d of %d cases", len(out.Results), len(cases))
	}
	t.Logf("rendered %d templates with handlebars %s, as the SES stand-in does", len(cases), out.Handlebars)
	return out.Results
}
