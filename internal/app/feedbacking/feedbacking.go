// Package feedbacking composes the feedback function: SES's events (from EventBridge,
// SNS, or injected locally) → the feedback service → the table. It is apart from
// package app's other compositions so that the function links only DynamoDB's client.
package feedbacking

import (
	"log/slog"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/feedback"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// New composes the feedback service and the function's handler over it.
func New(cfg app.Config, clients app.Clients, log *slog.Logger, opts ...app.Option) (*pg.Feedback, *feedback.Handler, error) {
	now, keys, _, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, nil, err
	}
	stores := dynamo.Capabilities(app.TableStore(cfg, clients, keys))
	f := &pg.Feedback{Env: pg.Env{BaseURL: cfg.BaseURL, Now: now}, Store: stores.Feedback, TransientLimit: cfg.TransientBounceLimit}
	return f, &feedback.Handler{Feedback: f, Log: log}, nil
}
