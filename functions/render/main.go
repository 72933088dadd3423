// Command render is the render function: it turns kits' Markdown into safe HTML for
// the web function, which calls it when a kit's revision is saved (see
// internal/kitrender). It is a function of its own so that the Markdown libraries'
// start-up cost falls here, not on every cold start of the web function.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/peergroups/peergroups/internal/kitrender"
	"github.com/peergroups/peergroups/internal/peergroups/kitmarkdown"
)

func main() {
	lambda.Start(func(ctx context.Context, req kitrender.Request) (kitrender.Response, error) {
		html, problems := kitmarkdown.RenderAll(req.Markdown)
		return kitrender.Response{HTML: html, Problems: problems}, nil
	})
}
