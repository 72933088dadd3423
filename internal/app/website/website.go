// Package website composes the web function: store → service → handlers. It is apart from
// package app so that the functions that only send mail do not link the web layer.
package website

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/councils"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
	"github.com/peergroups/peergroups/internal/s3mail"
	"github.com/peergroups/peergroups/internal/web"
)

// App is the composed web service. Set Web.Exports to give the handler the bucket
// that large downloads are written to (s3exports): only the web function builds it,
// so that no other function links S3.
type App struct {
	Store    *dynamo.Store
	Stores   dynamo.Stores
	Services Services
	Web      *web.Server
}

// Services are the domain's services, one per capability, all over one store.
type Services struct {
	Memberships *pg.Memberships
	Access      *pg.Access
	Network     *pg.Network
	Register    *pg.Register
	Proposals   *pg.Proposals
	Invitations *pg.Invitations
	Rounds      *pg.Rounds
	RSVPs       *pg.RSVPs
	Kits        *pg.Kits
	KitVariants *pg.KitVariants
	KitFiles    *pg.KitFiles

	KitSuggestions *pg.KitSuggestions
	MailInbox      *pg.MailInbox
	KitDownloads   *pg.KitDownloads
}

// NewServices builds each capability's service over the store, and gives each the
// others' small parts it uses: the network's groups, access's invitations to
// facilitate, the RSVPs' filling of places.
func NewServices(st dynamo.Stores, env pg.Env, councils *pg.Councils, limiter pg.Limiter, admins []string) Services {
	access := &pg.Access{Env: env, Store: st.Access, Limiter: limiter, Admins: admins}
	network := &pg.Network{Env: env, Store: st.Network, Councils: councils, Admins: admins, Inviter: access}
	rsvps := &pg.RSVPs{Env: env, Store: st.RSVPs, Network: network}
	kits := &pg.Kits{Env: env, Store: st.Kits, Rounds: st.Rounds}
	variants := &pg.KitVariants{Kits: kits, Store: st.Kits, Groups: network, People: st.Memberships}
	return Services{
		Memberships: &pg.Memberships{Env: env, Store: st.Memberships, Network: network, Councils: councils, Limiter: limiter},
		Access:      access,
		Network:     network,
		Register:    &pg.Register{Env: env, Store: st.Register, Councils: councils, Limiter: limiter},
		Proposals:   &pg.Proposals{Env: env, Store: st.Proposals, Councils: councils, Limiter: limiter, Network: network, Inviter: access},
		Invitations: &pg.Invitations{Env: env, Store: st.Invitations, Network: network},
		Rounds:      &pg.Rounds{Env: env, Store: st.Rounds, Network: network, Places: rsvps, Kits: kits, Variants: &pg.KitPublishing{Variants: variants, Roles: st.Network}},
		RSVPs:       rsvps,
		Kits:        kits,
		KitVariants: variants,
		KitFiles:    &pg.KitFiles{Kits: kits, Uploads: st.Kits},

		KitSuggestions: &pg.KitSuggestions{Variants: variants, Store: st.Kits},
		MailInbox:      &pg.MailInbox{Env: env, Store: st.MailIn, Network: network},
		KitDownloads:   &pg.KitDownloads{Kits: kits, Variants: variants},
	}
}

// New composes store → services → handlers.
func New(cfg app.Config, clients app.Clients, log *slog.Logger, opts ...app.Option) (*App, error) {
	list, err := councils.Load()
	if err != nil {
		return nil, fmt.Errorf("load councils: %w", err)
	}
	now, keys, sealer, err := app.ClockAndKeys(cfg, opts...)
	if err != nil {
		return nil, err
	}
	store, err := app.OutboxStore(cfg, clients, keys)
	if err != nil {
		return nil, err
	}
	store.Now = now
	stores := dynamo.Capabilities(store)
	services := NewServices(stores, pg.Env{Links: sealer, BaseURL: cfg.BaseURL, Now: now}, list, pg.Limiter{
		Limits:    pg.Limits{PerEmail: cfg.LimitPerEmail, PerIP: cfg.LimitPerIP},
		Pseudonym: keys.Pseudonym,
	}, cfg.Admins)
	// A confirmed sign-up lifts an erased address's suppression, found by its pseudonym.
	services.Memberships.Pseudonym = keys.PersonPseudonym
	// The audit trail names people by that pseudonym; its page shows the admins and
	// facilitators by address again.
	services.Network.Pseudonym = keys.PersonPseudonym
	// The kits' documents are in S3, whose client is built when a kit is first asked for.
	services.Kits.Objects = s3kits.Deferred(clients.AWS, cfg.KitsBucket)
	services.KitFiles.Blobs = s3kits.DeferredBlobs(clients.AWS, cfg.KitsBucket, cfg.KitsUploadURL)
	services.KitDownloads.Zips = s3kits.DeferredZips(clients.AWS, cfg.KitsBucket)
	// Mail's attachments, stored apart by the inbound function, are downloaded by link.
	mailFiles := s3mail.Deferred(clients.AWS, cfg.ReceivingBucket)
	services.MailInbox.Files = mailFiles
	if cfg.GroupsMailDomain != "" {
		// The groups' addresses, changed by admins: none may be one of the service's own.
		services.Network.Addresses = stores.Network
		services.Network.ReservedMailboxes = localParts(cfg.AdminAddress, cfg.MailFrom, cfg.ReplyTo)
	}
	// The web function previews announcements and briefs, and serves calendars; it sends
	// no mail itself (the announce function does), so its announcer has no mailer, and
	// the function does not link the SES client.
	announcer := &announce.Announcer{
		Store: stores.Announcements, Links: sealer, BaseURL: cfg.BaseURL, Now: now, Log: log,
		Reserve: cfg.TransactionalShare, Kits: stores.Kits,
	}
	announcer.Checks = services.KitVariants // a draft round's preview checks the groups' versions of the kit now
	server := &web.Server{
		Memberships: services.Memberships,
		Access:      services.Access,
		Network:     services.Network,
		Register:    services.Register,
		Proposals:   services.Proposals,
		Invitations: services.Invitations,
		Rounds:      services.Rounds,
		RSVPs:       services.RSVPs,
		Kits:        services.Kits,
		KitVariants: services.KitVariants,
		KitFiles:    services.KitFiles,
		MailInbox:   services.MailInbox,
		Now:         now,

		KitSuggestions: services.KitSuggestions,
		KitDownloads:   services.KitDownloads,

		Privacy: &pg.Privacy{
			Env: pg.Env{Links: sealer, BaseURL: cfg.BaseURL, Now: now}, Store: stores.Privacy, Pseudonym: keys.PersonPseudonym,
			// An erasure deletes the person's received mail and the members CSVs that list them.
			Mail: mailFiles, Exports: s3exports.Deferred(clients.AWS, cfg.ExportsBucket),
		},
		Retention: cfg.Retention,

		Announcer: announcer,
		Councils:  list,
		Sessions:  &web.Sessions{Keys: keys, Secure: cfg.Secure()},
		Log:       log,

		GroupsMailDomain: cfg.GroupsMailDomain,
	}
	return &App{Store: store, Stores: stores, Services: services, Web: server}, nil
}

// Handler returns the web handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// localParts returns the local parts of addresses ("Peer Groups <peergroups@example.org>"
// gives "peergroups"), lower case; those that do not parse are left out.
func localParts(addrs ...string) []string {
	var out []string
	for _, a := range addrs {
		if i := strings.LastIndexByte(a, '<'); i >= 0 {
			a = strings.TrimSuffix(a[i+1:], ">")
		}
		if local, _, ok := strings.Cut(strings.TrimSpace(a), "@"); ok && local != "" {
			out = append(out, strings.ToLower(local))
		}
	}
	return out
}
