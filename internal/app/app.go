package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/peergroups/peergroups/internal/awsenv"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/links"
	"github.com/peergroups/peergroups/internal/logging"
)

// Clients are the AWS clients the service uses, built once per process.
type Clients struct {
	DynamoDB *dynamodb.Client
	// AWS is the configuration the clients were built from, for a function that builds
	// one more of its own (the web function's S3 client, which only it links).
	AWS aws.Config
}

// AWSConfig is the SDK configuration the functions run with, read from the environment
// Lambda gives them (package awsenv): the region, the role's credentials, and the
// endpoints (AWS_ENDPOINT_URL_<SERVICE> for the local stand-ins). The dev server, the
// tests and the bench use it too, so that they run the functions' configuration.
func AWSConfig() (aws.Config, error) { return awsenv.Config(os.Getenv) }

// NewClients builds the DynamoDB client from an SDK configuration. A function builds
// any other client it uses itself, in its own composition package (package mailing
// for SES), so that the functions that do not use it do not link it.
func NewClients(cfg aws.Config) Clients {
	return Clients{AWS: cfg, DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses fail the SDK's checksum check.
		o.DisableValidateResponseChecksum = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != ""
	})}
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

// TableStore is the store over the table as each function's composition starts it:
// the audit entries it writes name people by their keyed pseudonym (keys'), never by
// address (pg.PseudonymousEntry), so that erasing a person leaves nothing in the trail.
func TableStore(cfg Config, clients Clients, keys *links.Keyring) *dynamo.Store {
	store := dynamo.New(clients.DynamoDB, cfg.TableName)
	store.PersonPseudonym = keys.PersonPseudonym
	return store
}

// OutboxStore is the store with the key that seals the emails kept in the outbox.
func OutboxStore(cfg Config, clients Clients, keys *links.Keyring) (*dynamo.Store, error) {
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
	store := TableStore(cfg, clients, keys)
	store.Box = box
	store.Retention = cfg.Retention
	return store, nil
}

// FromEnvironment reads the configuration and builds the DynamoDB client, as every
// function's main does first.
func FromEnvironment(ctx context.Context) (Config, Clients, error) {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return Config{}, Clients{}, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := AWSConfig()
	if err != nil {
		return Config{}, Clients{}, err
	}
	return cfg, NewClients(awsCfg), nil
}

// Boot is how every function's main begins: the configuration, the DynamoDB client and
// the logger the function logs with. A function cannot start without them, so one that
// cannot have them logs why and exits.
func Boot(ctx context.Context) (Config, Clients, *slog.Logger) {
	cfg, clients, err := FromEnvironment(ctx)
	if err == nil {
		var log *slog.Logger
		if log, err = Logger(cfg); err == nil {
			return cfg, clients, log
		}
	}
	// Without the configuration there is no key to write addresses as pseudonyms
	// with: the reason is logged as it is (it names a setting, not a person).
	ExitIf(lambdacontext.NewLogger(), "start", err)
	panic("unreachable")
}

// ExitIf ends the process, saying why in the log, when err is not nil: a function
// whose composition fails cannot serve anything, and Lambda reports the failed start.
func ExitIf(log *slog.Logger, step string, err error) {
	if err != nil {
		log.Error(step, "error", err)
		os.Exit(1)
	}
}

// Logger is every function's logger (package logging): Lambda's structured logs, with
// the request ID and the function, and every email address replaced by a pseudonym
// keyed by the link key.
func Logger(cfg Config) (*slog.Logger, error) {
	keys, err := cfg.Keyring(time.Now)
	if err != nil {
		return nil, err
	}
	return logging.Lambda(keys.PersonPseudonym), nil
}
