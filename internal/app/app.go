package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/links"
	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/ses"
)

// Clients are the AWS clients the service uses, built once per process.
type Clients struct {
	DynamoDB *dynamodb.Client
	SES      *sesv2.Client
	// AWS is the configuration the clients were built from, for a function that builds
	// one more of its own (the web function's S3 client, which only it links).
	AWS aws.Config
}

// AWSConfig loads the SDK configuration the standard way: credentials, region and
// endpoints (AWS_ENDPOINT_URL_<SERVICE> for the local stand-ins) from the environment.
func AWSConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// NewClients builds the clients from an SDK configuration.
func NewClients(cfg aws.Config) Clients {
	return newClients(cfg, SES)
}

// Uses names an AWS client beyond DynamoDB's that a function builds at start.
type Uses int

const (
	SES Uses = iota // sending mail: the announce, outbox and reminders functions
)

// newClients builds the DynamoDB client and those named: a function builds only what
// it uses, since each client costs start-up time.
func newClients(cfg aws.Config, uses ...Uses) Clients {
	c := Clients{AWS: cfg, DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses fail the SDK's checksum check.
		o.DisableValidateResponseChecksum = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != ""
	})}
	for _, u := range uses {
		switch u {
		case SES:
			c.SES = sesv2.NewFromConfig(cfg)
		}
	}
	return c
}

// Option changes how New composes the service; tests use them.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the service tell the time with now (tests freeze or move time).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// apply returns the options with their defaults.
func apply(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Mailer is the SES mailer every function that sends mail uses.
func Mailer(cfg Config, clients Clients) *ses.Mailer {
	m := ses.NewMailer(clients.SES, cfg.MailFrom)
	m.ReplyTo, m.ConfigurationSet, m.FixedRate = cfg.ReplyTo, cfg.ConfigurationSet, cfg.MaxSendRate
	return m
}

// clockAndSealer is what every composition starts from: the time, and the keys that
// seal links.
func clockAndSealer(cfg Config, opts []Option) (func() time.Time, *links.Sealer, error) {
	now, _, sealer, err := ClockAndKeys(cfg, opts...)
	return now, sealer, err
}

// ClockAndKeys is what the web composition starts from: the time, the keyring (which
// also signs sessions) and the sealer of links.
func ClockAndKeys(cfg Config, opts ...Option) (func() time.Time, *links.Keyring, *links.Sealer, error) {
	o := apply(opts)
	keys, err := cfg.Keyring(o.now)
	if err != nil {
		return nil, nil, nil, err
	}
	return o.now, keys, links.NewSealer(keys, rand.Reader), nil
}

// OutboxStore is the store with the key that seals the emails kept in the outbox.
func OutboxStore(cfg Config, clients Clients) (*dynamo.Store, error) {
	box, err := links.NewBox(cfg.LinkKey, "outbox", rand.Reader)
	if err != nil {
		return nil, err
	}
	if cfg.PreviousLinkKey != nil {
		// Items sealed just before a rotation are sent just after it. (An instance
		// lives hours at most; an item is sent within seconds, so the overlap's end
		// is not checked here.)
		if box.Previous, err = links.NewBox(cfg.PreviousLinkKey, "outbox", rand.Reader); err != nil {
			return nil, err
		}
	}
	store := dynamo.New(clients.DynamoDB, cfg.TableName)
	store.Box = box
	return store, nil
}

// NewOutbox composes the outbox function: store → sender, with the invitations of an
// approved proposal. Leases are in real time, whatever the clock.
func NewOutbox(cfg Config, clients Clients, log *slog.Logger, opts ...Option) (*outbox.Sender, error) {
	now, sealer, err := clockAndSealer(cfg, opts)
	if err != nil {
		return nil, err
	}
	store, err := OutboxStore(cfg, clients)
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
	}, nil
}

// FromEnvironment reads the configuration and builds the DynamoDB client and those the
// function uses, as every function's main does first.
func FromEnvironment(ctx context.Context, uses ...Uses) (Config, Clients, error) {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return Config{}, Clients{}, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := AWSConfig(ctx)
	if err != nil {
		return Config{}, Clients{}, err
	}
	return cfg, newClients(awsCfg, uses...), nil
}
