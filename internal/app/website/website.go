// Package website composes the web function: store → service → handlers. It is apart from
// package app so that the functions that only send mail do not link the web layer.
package website

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/councils"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/web"
)

// App is the composed web service. Set Web.Exports to give the handler the bucket
// that large downloads are written to (s3exports): only the web function builds it,
// so that no other function links S3.
type App struct {
	Store   *dynamo.Store
	Service *pg.Service
	Web     *web.Server
}

// New composes store → service → handlers.
func New(cfg app.Config, clients app.Clients, log *slog.Logger, opts ...app.Option) (*App, error) {
	list, err := councils.Load()
	if err != nil {
		return nil, fmt.Errorf("load councils: %w", err)
	}
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, err
	}
	store, err := app.OutboxStore(cfg, clients)
	if err != nil {
		return nil, err
	}
	service := &pg.Service{
		Store:    store,
		Links:    sealer,
		Councils: list,
		BaseURL:  cfg.BaseURL,
		Limits:   pg.Limits{PerEmail: cfg.LimitPerEmail, PerIP: cfg.LimitPerIP},
		Now:      now,
		Pseudonym: func(parts ...string) string {
			return keys.Pseudonym(parts...)
		},
		Admins: cfg.Admins,
	}
	announcer, err := app.NewAnnouncer(cfg, clients, log, opts...)
	if err != nil {
		return nil, err
	}
	server := &web.Server{
		Service:   service,
		Announcer: announcer,
		Councils:  list,
		CSRF:      &web.CSRF{Keys: keys, Secure: cfg.Secure()},
		Sessions:  &web.Sessions{Keys: keys, Secure: cfg.Secure()},
		Log:       log,
	}
	return &App{Store: store, Service: service, Web: server}, nil
}

// Handler returns the web handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }
