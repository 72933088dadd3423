// Command reminders is the reminders function: run every hour by a schedule, it emails
// everyone going to an event a reminder two days before it, once (see internal/announce).
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/peergroups/peergroups/internal/app"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/metrics"
)

func main() {
	cfg, clients, log := mailing.Boot(context.Background())
	reminders, err := announcing.NewReminders(cfg, clients, log)
	app.ExitIf(log, "compose", err)
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) error {
		tally, err := reminders.Run(ctx)
		log.InfoContext(ctx, "reminders", "sent", tally.Sent, "failed", tally.Failed, "skipped", tally.Skipped)
		// The hourly look at the rounds' sending: StalledRounds is what the
		// StalledRoundAlarm watches (template.yaml).
		stalled, watchErr := reminders.Stalled(ctx)
		for _, n := range stalled {
			log.WarnContext(ctx, "a round's sending has stalled: an admin can resume it on its round page", "round", n)
		}
		if watchErr == nil {
			watchErr = metrics.Write(os.Stdout, lambdacontext.FunctionName, "StalledRounds", float64(len(stalled)), "Count", time.Now())
		}
		return errors.Join(err, watchErr)
	})
}
