// Command feedback is the feedback function: the configuration set publishes SES's
// events (sends, deliveries, delays, bounces, complaints, rejections) to EventBridge,
// whose rule invokes it; it records each email's delivery state on its ledger row or
// outbox item and suppresses the addresses that bounce or complain (see
// internal/peergroups/feedback_apply.go).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
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
	_, handler, err := feedbacking.New(cfg, clients, log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler.Handle)
}
