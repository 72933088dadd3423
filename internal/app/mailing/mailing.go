// Package mailing composes what sends mail: the SES client, the mailer over it, and the
// outbox function. It is apart from package app so that the functions that never send
// mail themselves (web and inbound, which leave their mail in the outbox) do not link
// the SES client: its package initialisation alone costs more than a millisecond of
// every cold start.
package mailing

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/ses"
)

// Clients are the service's clients and the SES client.
type Clients struct {
	app.Clients
	SES *sesv2.Client
}

// NewClients builds the clients from an SDK configuration.
func NewClients(cfg aws.Config) Clients {
	return Clients{Clients: app.NewClients(cfg), SES: sesv2.NewFromConfig(cfg)}
}

// Boot is app.Boot with the SES client: how the functions that send mail begin.
func Boot(ctx context.Context) (app.Config, Clients, *slog.Logger) {
	cfg, clients, log := app.Boot(ctx)
	return cfg, Clients{Clients: clients, SES: sesv2.NewFromConfig(clients.AWS)}, log
}

// Mailer is the SES mailer every function that sends mail uses.
func Mailer(cfg app.Config, clients Clients) *ses.Mailer {
	m := ses.NewMailer(clients.SES, cfg.MailFrom)
	m.ReplyTo, m.ConfigurationSet, m.FixedRate = cfg.ReplyTo, cfg.ConfigurationSet, cfg.MaxSendRate
	return m
}

// NewOutbox composes the outbox function: store → sender, with the invitations of an
// approved proposal. Leases are in real time, whatever the clock.
func NewOutbox(cfg app.Config, clients Clients, log *slog.Logger, opts ...app.Option) (*outbox.Sender, error) {
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, err
	}
	store, err := app.OutboxStore(cfg, clients.Clients, keys)
	if err != nil {
		return nil, err
	}
	env := pg.Env{Links: sealer, BaseURL: cfg.BaseURL, Now: now}
	stores := dynamo.Capabilities(store)
	network := &pg.Network{Env: env, Store: stores.Network}
	invitations := &pg.Invitations{Env: env, Store: stores.Invitations, Network: network}
	// A new group's kit: DynamoDB alone (a version's first revision is its parent's
	// document, already in S3), so the outbox function links no S3.
	kits := &pg.Kits{Env: env, Store: stores.Kits, Rounds: stores.Rounds}
	invitations.Kits = &pg.NewGroupKits{Variants: &pg.KitVariants{Kits: kits, Store: stores.Kits, Groups: network, People: stores.Memberships}, Rounds: stores.Rounds}
	return &outbox.Sender{
		Store: stores.Outbox, Mailer: Mailer(cfg, clients), Invitations: invitations,
		Now: time.Now, Log: log, RetryPause: outbox.DefaultRetryPause,
		Audit: stores.Outbox, Pseudonym: keys.PersonPseudonym,
	}, nil
}
