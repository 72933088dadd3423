package kitmarkdown

import (
	"fmt"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Check returns the accessibility errors of a section's Markdown, in the order they
// appear, each a sentence that says what to change: images with no description,
// headings that are not under the section's title (a level 2 heading) or that skip a
// level, links whose words do not say where they go, and raw HTML, which is not shown.
func Check(src string) []string {
	md, _ := markdown()
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var problems []string
	level := 2 // the section's title
	rawHTML := false
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			words := quote(plainText(n, source))
			switch {
			case n.Level <= 2:
				problems = append(problems, fmt.Sprintf("Heading %s is level %d: headings in a section start at level 3 (###), under the section’s title", words, n.Level))
			case n.Level > level+1:
				problems = append(problems, fmt.Sprintf("Heading %s is level %d after level %d: do not skip heading levels", words, n.Level, level))
			}
			level = max(n.Level, 2)
		case *ast.Image:
			if strings.TrimSpace(plainText(n, source)) == "" {
				problems = append(problems, fmt.Sprintf("The image %s has no description: write what it shows between the square brackets", quote(string(n.Destination))))
			}
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			words := strings.TrimSpace(plainText(n, source))
			switch {
			case words == "" && !hasImage(n):
				problems = append(problems, fmt.Sprintf("The link to %s has no words: write where it goes between the square brackets", quote(string(n.Destination))))
			case vagueLinkText[strings.ToLower(strings.Trim(words, ".!: "))]:
				problems = append(problems, fmt.Sprintf("The link text %s does not say where the link goes: use words that make sense on their own", quote(words)))
			}
		case *ast.HTMLBlock, *ast.RawHTML:
			if !rawHTML { // once is enough
				problems = append(problems, "Raw HTML is not shown to anyone: write it in Markdown instead")
			}
			rawHTML = true
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return problems
}

// vagueLinkText are link words that say nothing out of context (WCAG 2.4.4).
var vagueLinkText = map[string]bool{
	"click here": true, "here": true, "click": true, "link": true, "this link": true,
	"more": true, "read more": true, "find out more": true, "this": true, "this page": true,
}

// plainText is the text inside a node, without its formatting.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
		case *ast.String:
			b.Write(c.Value)
		default:
			b.WriteString(plainText(c, src))
		}
	}
	return b.String()
}

func hasImage(n ast.Node) bool {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if _, ok := c.(*ast.Image); ok {
			return true
		}
	}
	return false
}

// quote puts words in curly quotes, shortened to 60 characters.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return "“" + s + "”"
}
