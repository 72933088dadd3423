// Package announcing composes the announce and reminders functions: store →
// announcer, store → reminders. It is apart from package app so that the outbox
// function, which sends one email at a time, does not link the announcements, their
// templates and the calendars.
package announcing

import (
	"log/slog"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// New composes the announce function: store → announcer.
func New(cfg app.Config, clients mailing.Clients, log *slog.Logger, opts ...app.Option) (*announce.Announcer, error) {
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, err
	}
	// The store seals the emails the circuit breaker leaves in the outbox for the admins.
	store, err := app.OutboxStore(cfg, clients.Clients, keys)
	if err != nil {
		return nil, err
	}
	stores := dynamo.Capabilities(store)
	return &announce.Announcer{
		Store: stores.Announcements, Mailer: mailing.Mailer(cfg, clients),
		Links: sealer, BaseURL: cfg.BaseURL, Now: now, Log: log, Reserve: cfg.TransactionalShare,
		Kits: stores.Kits,
		Breaker: &pg.RoundBreaker{
			Env: pg.Env{Links: sealer, BaseURL: cfg.BaseURL, Now: now}, Breaker: cfg.Breaker, Admins: cfg.Admins,
			Store: stores.Announcements,
		},
	}, nil
}

// NewReminders composes the reminders function: store → reminders.
func NewReminders(cfg app.Config, clients mailing.Clients, log *slog.Logger, opts ...app.Option) (*announce.Reminders, error) {
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, err
	}
	stores := dynamo.Capabilities(app.TableStore(cfg, clients.Clients, keys))
	return &announce.Reminders{
		Store: stores.Reminders, Mailer: mailing.Mailer(cfg, clients),
		Links: sealer, BaseURL: cfg.BaseURL, Now: now, Log: log, Share: cfg.TransactionalShare,
		Watch: stores.Rounds, Pseudonym: keys.PersonPseudonym,
	}, nil
}
