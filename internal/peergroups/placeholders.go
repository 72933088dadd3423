package peergroups

import (
	"fmt"
	"strings"
)

// The mail service fills a BulkTemplate with Handlebars (SES, and the SES stand-in,
// which uses the npm handlebars package). Text that a person typed goes into the
// template itself, so it must never be read as Handlebars: TemplateText writes it so
// that Handlebars prints it back exactly, and BulkTemplate.Render fills a template the
// way the mail service does, for the admin's preview and for mail sent one by one.
// internal/peergroups/testdata/handlebars.js checks both against the real engine.

// separator is a Handlebars comment that prints nothing and, with its ~, removes the
// one space written before it. It stands between a backslash (or a brace) of the
// text and what follows, which would otherwise be read together as an escape (or as
// the start of a placeholder). An empty comment goes before a text that starts with
// }, which would otherwise close a placeholder just before it.
const (
	separator  = " {{~!}}"
	emptyFirst = "{{!}}"
)

// TemplateText returns s written for a Handlebars template, so that the template
// prints s as it is: every {{ becomes the escape \{{, a backslash just before a {{ is
// kept apart from it by an empty comment, and so is a { or \ at the very end, which
// the template's next placeholder would otherwise join, and a } at the very start,
// which would close a placeholder before it. It never adds a placeholder or a block,
// so typed text cannot change the template. Invalid UTF-8 and NUL, which Handlebars
// cannot carry, become U+FFFD.
//
// The template text just before the result must not end with { or \ (ours never do:
// a test renders every email with such text in every field).
func TemplateText(s string) string {
	s = cleanTemplateText(s)
	if !strings.ContainsAny(s, `{\`) && !strings.HasPrefix(s, "}") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	if strings.HasPrefix(s, "}") {
		b.WriteString(emptyFirst)
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			if i > 0 && s[i-1] == '\\' {
				b.WriteString(separator)
			}
			b.WriteString(`\{{`)
			i += 2
		case i == len(s)-1 && (s[i] == '{' || s[i] == '\\'):
			b.WriteByte(s[i])
			b.WriteString(separator)
			i++
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// cleanTemplateText is what TemplateText's result prints: s, with invalid UTF-8 and
// NUL replaced by U+FFFD.
func cleanTemplateText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Render fills the template for one destination as the mail service does, and
// returns the message that destination is sent. It knows the part of Handlebars our
// templates use (text, escapes, comments and {{{name}}}); anything else is an error,
// and so is {{name}}, which SES escapes in HTML parts and the stand-in does not: our
// templates use {{{name}}} and HTML parts take values we escaped (name_html).
func (t BulkTemplate) Render(d BulkDestination) (*Message, error) {
	subject, err := renderHandlebars(t.Subject, d.Data)
	if err != nil {
		return nil, fmt.Errorf("render subject: %w", err)
	}
	text, err := renderHandlebars(t.Text, d.Data)
	if err != nil {
		return nil, fmt.Errorf("render text: %w", err)
	}
	html, err := renderHandlebars(t.HTML, d.Data)
	if err != nil {
		return nil, fmt.Errorf("render HTML: %w", err)
	}
	return &Message{To: d.To, Subject: subject, Text: text, HTML: html, Headers: d.Headers}, nil
}

// hbNode is one piece of a parsed template: text of the template, a placeholder's
// value, or a comment (which prints nothing, and with ~ strips the space before it).
type hbNode struct {
	kind      hbKind
	text      string
	stripLeft bool
}

type hbKind int

const (
	hbText hbKind = iota
	hbValue
	hbComment
)

// renderHandlebars follows the states of Handlebars' lexer (handlebars.l): text up to
// the next {{; a {{ after one backslash is an escape, whose text runs to the next {{,
// \{{ or \\{{; after two backslashes, one is printed and the {{ opens a mustache. Then
// it applies Handlebars' whitespace control to the comments.
func renderHandlebars(src string, data map[string]string) (string, error) {
	if strings.Contains(src, "\x00") {
		return "", fmt.Errorf("a template cannot contain NUL")
	}
	var nodes []hbNode
	for p := 0; p < len(src); {
		i := strings.Index(src[p:], "{{")
		if i < 0 {
			nodes = append(nodes, hbNode{kind: hbText, text: src[p:]})
			break
		}
		text, escaped := src[p:p+i], false
		switch {
		case strings.HasSuffix(text, `\\`):
			text = text[:len(text)-1]
		case strings.HasSuffix(text, `\`):
			text, escaped = text[:len(text)-1], true
		}
		if text != "" {
			nodes = append(nodes, hbNode{kind: hbText, text: text})
		}
		p += i
		if escaped {
			k := 2
			for p+k < len(src) && !strings.HasPrefix(src[p+k:], "{{") && !strings.HasPrefix(src[p+k:], `\{{`) && !strings.HasPrefix(src[p+k:], `\\{{`) {
				k++
			}
			nodes = append(nodes, hbNode{kind: hbText, text: src[p : p+k]})
			p += k
			continue
		}
		n, node, err := mustache(src[p:], data)
		if err != nil {
			return "", err
		}
		nodes = append(nodes, node)
		p += n
	}
	original := make([]string, len(nodes))
	for i, n := range nodes {
		original[i] = n.text
	}
	for i, n := range nodes {
		if n.kind != hbComment {
			continue
		}
		// Handlebars removes the line of a comment that stands alone on it; our
		// templates never have one (a separator always follows a \ or a {).
		prevAlone := i == 0 || nodes[i-1].kind == hbText && (trailingSpaceHasNewline(original[i-1]) || i == 1 && strings.TrimFunc(original[0], jsSpace) == "")
		nextAlone := i == len(nodes)-1 || nodes[i+1].kind == hbText && (leadingSpaceHasNewline(original[i+1]) || i+2 == len(nodes) && strings.TrimFunc(original[i+1], jsSpace) == "")
		if prevAlone && nextAlone {
			return "", fmt.Errorf("a comment on a line of its own is not supported")
		}
		if n.stripLeft && i > 0 && nodes[i-1].kind == hbText {
			nodes[i-1].text = strings.TrimRightFunc(nodes[i-1].text, jsSpace)
		}
	}
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString(n.text)
	}
	return b.String(), nil
}

func trailingSpaceHasNewline(s string) bool {
	return strings.Contains(s[len(strings.TrimRightFunc(s, jsSpace)):], "\n")
}

func leadingSpaceHasNewline(s string) bool {
	return strings.Contains(s[:len(s)-len(strings.TrimLeftFunc(s, jsSpace))], "\n")
}

// mustache reads the {{...}} at the start of s: an {{{name}}} (its value) or a comment
// {{!...}} or {{~!...}} (nothing; stripLeft for the ~). It returns its length.
func mustache(s string, data map[string]string) (n int, node hbNode, err error) {
	switch {
	case strings.HasPrefix(s, "{{!--"), strings.HasPrefix(s, "{{~!--"):
		return 0, node, fmt.Errorf("unsupported template at %.20q", s)
	case strings.HasPrefix(s, "{{!"), strings.HasPrefix(s, "{{~!"):
		end := strings.Index(s, "}}")
		if end < 0 {
			return 0, node, fmt.Errorf("unclosed comment at %.20q", s)
		}
		if s[end-1] == '~' {
			return 0, node, fmt.Errorf("unsupported template at %.20q", s)
		}
		return end + 2, hbNode{kind: hbComment, stripLeft: s[2] == '~'}, nil
	case strings.HasPrefix(s, "{{{") && !strings.HasPrefix(s, "{{{{"):
		end := strings.Index(s, "}}}")
		if end < 0 {
			return 0, node, fmt.Errorf("unclosed placeholder at %.20q", s)
		}
		name := s[3:end]
		if !isPlaceholderName(name) {
			return 0, node, fmt.Errorf("unsupported template at %.40q", s[:end+3])
		}
		v, ok := data[name]
		if !ok {
			return 0, node, fmt.Errorf("no value for {{{%s}}}", name)
		}
		if strings.HasPrefix(s[end+3:], "}") {
			return 0, node, fmt.Errorf("a } right after {{{%s}}} closes nothing", name)
		}
		return end + 3, hbNode{kind: hbValue, text: v}, nil
	}
	return 0, node, fmt.Errorf("unsupported template at %.20q (placeholders are written {{{name}}})", s)
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '_') {
			return false
		}
	}
	return true
}

// jsSpace is JavaScript's \s, which Handlebars strips around a ~.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}
