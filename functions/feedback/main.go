// Command feedback is the feedback function: the configuration set publishes SES's
// events (sends, deliveries, delays, bounces, complaints, rejections) to EventBridge,
// whose rule invokes it; it records each email's delivery state on its ledger row or
// outbox item and suppresses the addresses that bounce or complain (see
// internal/peergroups/feedback_apply.go).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
)

func main() {
	cfg, clients, log := app.Boot(context.Background())
	_, handler, err := feedbacking.New(cfg, clients, log)
	app.ExitIf(log, "compose", err)
	lambda.Start(handler.Handle)
}
