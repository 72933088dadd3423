// Command inbound is the inbound function: SES receiving stores each message sent to
// the admin address or a group's address in the receiving bucket, then invokes it;
// it reads the message, keeps it in its conversation and answers it (see
// internal/mailin and internal/peergroups/mailin_receive.go).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
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
	_, handler, err := receiving.New(cfg, clients, s3exports.NewClient(clients.AWS), log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler.Handle)
}
