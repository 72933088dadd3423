// Package kitmarkdown renders the Markdown of the kits' sections as safe HTML. Only
// the render function (and the local server and tests) link it: goldmark and
// bluemonday cost about 5 ms at every start of a process that links them, which the
// web function, which serves people, does not pay (it calls the render function
// through internal/kitrender).
package kitmarkdown

import (
	"bytes"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Render turns a section's Markdown into HTML that is safe to put in a page:
// goldmark without raw HTML (it is left out) and without dangerous links, images only
// from the service itself (a remote image is replaced by its alternative text), then
// bluemonday's policy for user content as a second line of defence.
func Render(src string) string {
	md, policy := markdown()
	doc := md.Parser().Parse(text.NewReader([]byte(src)))
	dropRemoteImages(doc, []byte(src))
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, []byte(src), doc); err != nil {
		return "" // rendering into memory does not fail
	}
	return policy.Sanitize(buf.String())
}

// RenderAll renders each text, and checks it (see Check).
func RenderAll(texts []string) (html []string, problems [][]string) {
	html, problems = make([]string, len(texts)), make([][]string, len(texts))
	for i, t := range texts {
		html[i], problems[i] = Render(t), Check(t)
	}
	return html, problems
}

// localImage is an image's address that stays on the service: a path, with no scheme
// and no host. (Built on first use: the package does little at init.)
var localImage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:/?[A-Za-z0-9._~-][A-Za-z0-9._~/-]*)$`)
})

var markdown = sync.OnceValues(func() (goldmark.Markdown, *bluemonday.Policy) {
	md := goldmark.New(
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("https", "http", "mailto")
	p.AllowAttrs("src").Matching(localImage()).OnElements("img")
	p.RequireNoReferrerOnLinks(true)
	return md, p
})

// dropRemoteImages replaces each image whose address is not local by its alt text.
func dropRemoteImages(doc ast.Node, src []byte) {
	var remote []*ast.Image
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering {
			dest := string(img.Destination)
			if !localImage().MatchString(dest) || strings.HasPrefix(dest, "//") {
				remote = append(remote, img)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, img := range remote {
		alt := ast.NewString(altText(img, src))
		img.Parent().ReplaceChild(img.Parent(), img, alt)
	}
}

// altText is the text inside an image node.
func altText(n ast.Node, src []byte) []byte {
	var b bytes.Buffer
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(src))
		} else {
			b.Write(altText(c, src))
		}
	}
	return b.Bytes()
}
