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
	"github.com/peergroups/peergroups/internal/s3exports"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, clients, err := app.FromEnvironment(context.Background())
	if err != nil {
		log.Error("start", "error", err)
		os.Exit(1)
	}
	exports := s3exports.New(s3exports.NewClient(clients.AWS), cfg.ExportsBucket)
	a, err := app.New(cfg, clients, log, app.WithExports(exports))
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(a.Handler()).ProxyWithContext)
}
