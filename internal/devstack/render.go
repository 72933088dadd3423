package devstack

import (
	"context"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/peergroups/kitmarkdown"
)

// Renderer renders kits' Markdown in this process: the local server's and the tests'
// stand-in for the render function, running the same code.
type Renderer struct{}

// RenderMarkdown renders and checks each text.
func (Renderer) RenderMarkdown(ctx context.Context, texts []string) ([]pg.RenderedText, error) {
	html, problems := kitmarkdown.RenderAll(texts)
	out := make([]pg.RenderedText, len(texts))
	for i := range out {
		out[i] = pg.RenderedText{HTML: html[i], Problems: problems[i]}
	}
	return out, nil
}
