// Command announce is the announce function: the table's stream, filtered to round
// publications, runs each round's announcements (see internal/announce).
package main

import (
	"context"

	"github.com/peergroups/peergroups/internal/app"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

func main() {
	cfg, clients, log := mailing.Boot(context.Background())
	announcer, err := announcing.New(cfg, clients, log)
	app.ExitIf(log, "compose", err)
	lambda.Start((&dynamostream.Handler{Announcer: announcer, Log: log}).Handle)
}
