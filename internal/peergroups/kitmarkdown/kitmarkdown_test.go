package kitmarkdown_test

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/peergroups/peergroups/internal/peergroups/kitmarkdown"
)

func TestRenderMarkdownRemovesScriptsRawHTMLJavascriptLinksAndRemoteImages(t *testing.T) {
	src := "# Hello\n\n<script>alert(1)</script>\n\n<b onclick=\"x()\">raw</b>\n\n[click](javascript:alert(1))\n\n" +
		"![remote](https://evil.example/x.png)\n\n![proto](//evil.example/y.png)\n\n![local](/assets/ok.png)\n\n[fine](https://www.gov.uk/)\n"
	got := kitmarkdown.Render(src)
	for _, bad := range []string{"<script", "alert(1)", "onclick", "<b", "javascript:", "evil.example"} {
		if strings.Contains(got, bad) {
			t.Errorf("rendered Markdown contains %q:\n%s", bad, got)
		}
	}
	for _, good := range []string{"<h1", "Hello", `src="/assets/ok.png"`, "remote", `href="https://www.gov.uk/"`} {
		if !strings.Contains(got, good) {
			t.Errorf("rendered Markdown lacks %q:\n%s", good, got)
		}
	}
}

func FuzzRenderMarkdownNeverLetsScriptThrough(f *testing.F) {
	for _, seed := range []string{"<script>x</script>", "[a](javascript:x)", "![i](http://x/y.png)", "<img src=x onerror=alert(1)>", "[a](JaVaScRiPt:x)", "<a href=\"javascript:x\">a</a>", "`code`", "| a | b |\n|---|---|\n| 1 | 2 |"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got := kitmarkdown.Render(src)
		z := html.NewTokenizer(strings.NewReader(got))
		for range 100000 {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if slices.Contains([]string{"script", "style", "iframe", "object", "embed", "form", "input"}, tok.Data) {
				t.Fatalf("%q rendered a <%s>: %s", src, tok.Data, got)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					t.Fatalf("%q rendered an event handler %s: %s", src, a.Key, got)
				case (a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:") || strings.HasPrefix(v, "vbscript:")):
					t.Fatalf("%q rendered a %s link: %s", src, v, got)
				case tok.Data == "img" && a.Key == "src" && (strings.Contains(v, ":") || strings.HasPrefix(v, "//")):
					t.Fatalf("%q rendered a remote image: %s", src, got)
				}
			}
		}
	})
}

func TestCheckFindsWhatMakesAKitInaccessible(t *testing.T) {
	cases := []struct {
		src  string
		want string // part of the one problem expected; "" for none
	}{
		{"### Plan\n\nSome [GOV.UK guidance](https://www.gov.uk/).\n\n![A map of the region](/assets/map.png)\n", ""},
		{"# Big title\n", "level 1"},
		{"## Too big\n", "level 2"},
		{"### Three\n\n##### Five\n", "do not skip"},
		{"![](/assets/map.png)\n", "no description"},
		{"For the slides [click here](https://example.org/s).\n", "does not say where"},
		{"See [Read more.](https://example.org/s)\n", "does not say where"},
		{"[](https://example.org/s)\n", "has no words"},
		{"<div>hello</div>\n", "Raw HTML"},
		{"Some <b>bold</b> text\n", "Raw HTML"},
	}
	for _, tc := range cases {
		got := kitmarkdown.Check(tc.src)
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("Check(%q) = %q, want nothing", tc.src, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("Check(%q) = %q, want one problem about %q", tc.src, got, tc.want)
		}
	}
}
