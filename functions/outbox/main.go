// Command outbox is the outbox function: the table's stream, filtered to INSERTs of
// outbox items, sends each transactional email exactly once (see internal/outbox).
package main

import (
	"context"

	"github.com/peergroups/peergroups/internal/app"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

func main() {
	cfg, clients, log := mailing.Boot(context.Background())
	sender, err := mailing.NewOutbox(cfg, clients, log)
	app.ExitIf(log, "compose", err)
	lambda.Start((&dynamostream.OutboxHandler{Outbox: sender, Log: log}).Handle)
}
