// Command dev runs the whole service on one machine: it starts the local stand-ins,
// creates the table and buckets, seeds the groups and councils, and serves the web
// handler on http://127.0.0.1:8080. Ctrl-C stops everything it started.
//
//	go run ./internal/cmd/dev   (or: make dev)
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamostream"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3mail"
)

// localAdmin is the admin of the local server, unless ADMIN_EMAILS says otherwise.
const localAdmin = "admin@example.org"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where to serve the service")
	dynamoPort := flag.Int("dynamodb-port", 8000, "DynamoDB Local's port")
	sesPort := flag.Int("ses-port", 8005, "the SES stand-in's port (its page of sent mail is there)")
	s3Port := flag.Int("s3-port", 8006, "the S3 stand-in's port")
	smtpAddr := flag.String("smtp", "127.0.0.1:2525", "where the local SMTP listener (SES receiving's stand-in) listens")
	feedbackAddr := flag.String("feedback", "127.0.0.1:8007", "where make feedback delivers SES events (see devstack.InjectHandler)")
	flag.Parse()
	if err := run(*addr, *smtpAddr, *feedbackAddr, *dynamoPort, *sesPort, *s3Port); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(addr, smtpAddr, feedbackAddr string, dynamoPort, sesPort, s3Port int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve on %s (is another `make dev` running?): %w", addr, err)
	}
	defer ln.Close()

	logFile, err := os.Create(filepath.Join(root, ".local", "stand-ins.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	stack, err := devstack.Start(ctx, devstack.Options{Root: root, Persist: true, DynamoPort: dynamoPort, SESPort: sesPort, S3Port: s3Port, Output: logFile})
	if err != nil {
		return err
	}
	defer stack.Stop()
	for k, v := range stack.Env() {
		os.Setenv(k, v)
	}
	key, err := linkKey(filepath.Join(root, ".local", "link.key"))
	if err != nil {
		return err
	}
	os.Setenv("LINK_KEY", key)
	if os.Getenv("ADMIN_EMAILS") == "" {
		os.Setenv("ADMIN_EMAILS", localAdmin)
	}
	if os.Getenv("SES_MAX_SEND_RATE") == "" {
		os.Setenv("SES_MAX_SEND_RATE", "14") // the SES stand-in has no quota: SES's default
	}
	if os.Getenv("BASE_URL") == "" {
		os.Setenv("BASE_URL", "http://"+addr)
	}
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return err
	}
	// The dev mailbox simulator watches what the SES client sends and delivers the
	// events SES would publish to the feedback handler (composed below).
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	sim := &devstack.MailboxSimulator{Log: log}
	awsCfg.APIOptions = append(awsCfg.APIOptions, sim.APIOption(false))
	clients := mailing.NewClients(awsCfg)
	s3c := s3exports.NewClient(awsCfg)
	if err := devstack.Prepare(ctx, clients.DynamoDB, s3c, cfg.TableName, true); err != nil {
		return err
	}
	a, err := website.New(cfg, clients.Clients, log)
	if err != nil {
		return err
	}
	a.Web.Exports = s3exports.New(s3c, cfg.ExportsBucket)
	a.Services.Kits.Renderer = devstack.Renderer{} // the render function's code, in this process
	if err := seedKits(ctx, a, cfg.Admins[0]); err != nil {
		return err
	}
	signIn, err := a.Services.Access.IssueSignInLink(ctx, cfg.Admins[0], 12*time.Hour)
	if err != nil {
		return err
	}
	// Round publications reach the same announce handler as in Lambda, from the
	// table's stream in DynamoDB Local.
	announcer, err := announcing.New(cfg, clients, log)
	if err != nil {
		return err
	}
	streams := dynamodbstreams.NewFromConfig(awsCfg)
	go func() {
		handler := &dynamostream.Handler{Announcer: announcer, Log: log}
		if err := devstack.FollowStream(ctx, clients.DynamoDB, streams, cfg.TableName, handler.Handle, log); err != nil {
			log.Error("following the table's stream", "error", err)
		}
	}()
	// Every other email waits in the outbox until the outbox handler sends it, as in
	// Lambda: a second follower of the stream, as the second event source mapping.
	sender, err := mailing.NewOutbox(cfg, clients, log)
	if err != nil {
		return err
	}
	go func() {
		handler := &dynamostream.OutboxHandler{Outbox: sender, Log: log}
		if err := devstack.FollowStream(ctx, clients.DynamoDB, streams, cfg.TableName, handler.Handle, log); err != nil {
			log.Error("following the table's stream for the outbox", "error", err)
		}
	}()
	// Mail in: SMTP here, as SES receiving in AWS, to the same handler.
	in, inbound, err := receiving.New(cfg, clients.Clients, s3c, log)
	if err != nil {
		return err
	}
	raw := s3mail.New(s3c, cfg.ReceivingBucket)
	listener, err := devstack.StartMailListener(devstack.MailListenerOptions{
		Addr: smtpAddr, Accept: in.Accepts, Store: raw.PutRawMessage, Handle: inbound.Handle, Prefix: cfg.ReceivingPrefix, Log: log,
	})
	if err != nil {
		return err
	}
	defer listener.Close()
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	// Delivery feedback: the simulator's events, and `make feedback`'s, reach the same
	// handler as the feedback function's in AWS.
	_, feedbackHandler, err := feedbacking.New(cfg, clients.Clients, log)
	if err != nil {
		return err
	}
	sim.Deliver = func(ctx context.Context, record []byte) error { return feedbackHandler.Handle(ctx, record) }
	// SES's ooto@ answers the sender; here the answer goes to the admin address, where
	// mail in files an automatic reply without answering it.
	sim.AutoReply = func(ctx context.Context, _ string, raw []byte) error {
		return smtp.SendMail(listener.Addr, nil, "ooto@"+devstack.SimulatorDomain, []string{cfg.AdminAddress}, raw)
	}
	feedbackLn, err := net.Listen("tcp", feedbackAddr)
	if err != nil {
		return fmt.Errorf("cannot take feedback events on %s: %w", feedbackAddr, err)
	}
	feedbackSrv := &http.Server{Handler: sim.InjectHandler(), ReadHeaderTimeout: 10 * time.Second}
	go feedbackSrv.Serve(feedbackLn)
	defer feedbackSrv.Close()

	fmt.Printf(`
Peer Groups is running.

  The service          %s
  Sent mail (SES)      %s
  DynamoDB Local       %s   (table %q, data in .local/dynamodb-data)
  S3 stand-in          %s   (buckets %s)
  Stand-ins' output    .local/stand-ins.log
  Mail in (SMTP)       %s   (write to %s; make mail FILE=events/mail/join-request.eml)
  SES events           %s   (make feedback ID=<SES message ID> TYPE=Bounce; mail to bounce@,
                       complaint@, ooto@ or suppressionlist@simulator.amazonses.com gets SES's own)
  A round's kits       %s/kits/%d   (the core kit; London's and the Midlands' versions at
                       /kits/%d/groups/london and /kits/%d/groups/midlands; the lineage at /kits/%d/lineage)

Sign in as the admin %s (the link works once, for 12 hours;
ask for another at %s/sign-in and read it in the sent mail):

  %s

Press Ctrl-C to stop everything.
`, cfg.BaseURL, stack.SESURL, stack.DynamoURL, cfg.TableName, stack.S3URL, strings.Join(devstack.Buckets, ", "),
		listener.Addr, cfg.AdminAddress, feedbackAddr,
		cfg.BaseURL, seedRound, seedRound, seedRound, seedRound,
		cfg.Admins[0], cfg.BaseURL, signIn)

	<-ctx.Done()
	fmt.Println("\nStopping...")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return nil
}

// linkKey returns the local link key, making one the first time.
func linkKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}
