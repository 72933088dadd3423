// Command outbox is the outbox function: the table's stream, filtered to INSERTs of
// outbox items, sends each transactional email exactly once (see internal/outbox).
package main

import (
	"context"
	"os"

	"github.com/peergroups/peergroups/internal/app"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, clients, err := mailing.FromEnvironment(context.Background())
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
	sender, err := mailing.NewOutbox(cfg, clients, log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start((&dynamostream.OutboxHandler{Outbox: sender, Log: log}).Handle)
}
