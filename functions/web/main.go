// Command web is the HTTP API function: the service's web handler, run in Lambda
// behind an API Gateway HTTP API (payload format 2.0).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/kitrender"
	"github.com/peergroups/peergroups/internal/s3exports"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, clients, err := app.FromEnvironment(context.Background())
	if err != nil {
		log.Error("start", "error", err)
		os.Exit(1)
	}
	redacting, err := app.Logger(cfg)
	if err != nil {
		log.Error("start", "error", err)
		os.Exit(1)
	}
	log = redacting
	a, err := website.New(cfg, clients, log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	a.Web.Exports = s3exports.Deferred(clients.AWS, cfg.ExportsBucket)
	if cfg.RenderFunction != "" {
		a.Services.Kits.Renderer = kitrender.New(clients.AWS, cfg.RenderFunction)
	}
	lambda.Start(httpadapter.NewV2(a.Handler()).ProxyWithContext)
}
