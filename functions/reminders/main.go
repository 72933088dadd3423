// Command reminders is the reminders function: run every hour by a schedule, it emails
// everyone going to an event a reminder two days before it, once (see internal/announce).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, clients, err := mailing.FromEnvironment(context.Background())
	if err != nil {
		log.Error("start", "error", err)
		os.Exit(1)
	}
	reminders, err := announcing.NewReminders(cfg, clients, log)
	if err != nil {
		log.Error("compose", "error", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) error {
		tally, err := reminders.Run(ctx)
		log.InfoContext(ctx, "reminders", "sent", tally.Sent, "failed", tally.Failed, "skipped", tally.Skipped)
		return err
	})
}
