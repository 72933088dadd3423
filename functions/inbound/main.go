// Command inbound is the inbound function: SES receiving stores each message sent to
// the admin address or a group's address in the receiving bucket, then invokes it;
// it reads the message, keeps it in its conversation and answers it (see
// internal/mailin and internal/peergroups/mailin_receive.go).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/s3exports"
)

func main() {
	cfg, clients, log := app.Boot(context.Background())
	_, handler, err := receiving.New(cfg, clients, s3exports.NewClient(clients.AWS), log)
	app.ExitIf(log, "compose", err)
	lambda.Start(handler.Handle)
}
