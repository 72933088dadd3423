// Command announce is the announce function: the table's stream, filtered to round
// publications, runs each round's announcements (see internal/announce).
package main

import (
	"context"
	"os"

	"github.com/peergroups/peergroups/internal/app"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app/announcing"
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
	announcer, err := announcing.New(cfg, clients, log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start((&dynamostream.Handler{Announcer: announcer, Log: log}).Handle)
}
