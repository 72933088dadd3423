// Package receiving composes the inbound function: SES's event → the raw message in
// S3 → the mail-in service → the outbox. It is apart from package app so that no other
// function links the MIME parser.
package receiving

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/councils"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/mailin"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3mail"
)

// New composes the mail-in service and the inbound function's handler over it.
func New(cfg app.Config, clients app.Clients, raw *s3.Client, log *slog.Logger, opts ...app.Option) (*pg.MailIn, *mailin.Handler, error) {
	list, err := councils.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("load councils: %w", err)
	}
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, nil, err
	}
	store, err := app.OutboxStore(cfg, clients, keys)
	if err != nil {
		return nil, nil, err
	}
	stores := dynamo.Capabilities(store)
	env := pg.Env{Links: sealer, BaseURL: cfg.BaseURL, Now: now}
	var ours []string
	for _, a := range []string{cfg.MailFrom, cfg.ReplyTo} {
		if addr, err := mail.ParseAddress(a); err == nil {
			ours = append(ours, strings.ToLower(addr.Address))
		}
	}
	in := &pg.MailIn{
		Env: env, Store: stores.MailIn, Network: &pg.Network{Env: env, Store: stores.Network, Admins: cfg.Admins}, People: stores.Network,
		Admins: cfg.Admins, Admin: cfg.AdminAddress, Domain: cfg.GroupsMailDomain, Ours: ours, Pseudonym: keys.Pseudonym,
		Sent: stores.MailIn,
		// The group an address goes to: one GetItem (groupaddress.go).
		Mailboxes: stores.Network,
		Confirm:   pg.MailConfirm{Signups: stores.Memberships, Registrations: stores.Register, Councils: list},
	}
	bucket := s3mail.New(raw, cfg.ReceivingBucket)
	return in, &mailin.Handler{Raw: bucket, Receiver: in, Files: bucket, Prefix: cfg.ReceivingPrefix, Log: log}, nil
}
