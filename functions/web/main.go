// Command web is the HTTP API function: the service's web handler, run in Lambda
// behind an API Gateway HTTP API (payload format 2.0).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/kitrender"
	"github.com/peergroups/peergroups/internal/s3exports"
)

func main() {
	cfg, clients, log := app.Boot(context.Background())
	a, err := website.New(cfg, clients, log)
	app.ExitIf(log, "compose", err)
	a.Web.Exports = s3exports.Deferred(clients.AWS, cfg.ExportsBucket)
	if cfg.RenderFunction != "" {
		a.Services.Kits.Renderer = kitrender.New(clients.AWS, cfg.RenderFunction)
	}
	lambda.Start(httpadapter.NewV2(a.Handler()).ProxyWithContext)
}
