package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/emersion/go-smtp"

	"github.com/peergroups/peergroups/internal/mailin"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// MailListener is the local stand-in for SES receiving: an SMTP server on 127.0.0.1
// that refuses unknown recipients at RCPT (as the receipt rule's recipient list does),
// refuses a message over SES's 40 MB, adds the verdict headers SES would add (PASS),
// stores the raw message where the receipt rule's S3 action would, and hands the
// inbound function's handler an SES-shaped event for it.
type MailListener struct {
	Addr string
	srv  *smtp.Server
}

// MailListenerOptions are what the listener needs of the service.
type MailListenerOptions struct {
	Addr   string                                      // "127.0.0.1:2525"; port 0 for any free one
	Accept func(ctx context.Context, rcpt string) bool // whether an address is one of ours
	Store  func(ctx context.Context, key string, raw []byte) error
	Handle func(ctx context.Context, e events.SimpleEmailEvent) error
	Prefix string // the S3 action's key prefix
	Log    *slog.Logger
	// MaxBytes is the largest message accepted: SES's 40 MB when 0.
	MaxBytes int64
}

// StartMailListener starts the listener; Close stops it.
func StartMailListener(o MailListenerOptions) (*MailListener, error) {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("mail listener: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{o: o}, nil }))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = mailin.MaxMessage
	if o.MaxBytes > 0 {
		srv.MaxMessageBytes = o.MaxBytes
	}
	srv.MaxRecipients = 50
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	go srv.Serve(ln)
	return &MailListener{Addr: ln.Addr().String(), srv: srv}, nil
}

// Close stops the listener.
func (l *MailListener) Close() error { return l.srv.Close() }

type mailSession struct {
	o    MailListenerOptions
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.o.Accept(context.Background(), strings.ToLower(to)) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Address unknown: " + pg.OneLine(to, 100)}
	}
	s.to = append(s.to, strings.ToLower(to))
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		var tooBig *smtp.SMTPError
		if errors.As(err, &tooBig) || errors.Is(err, smtp.ErrDataTooLarge) {
			return smtp.ErrDataTooLarge
		}
		return err
	}
	id := make([]byte, 20)
	rand.Read(id)
	sesID := "local-" + hex.EncodeToString(id)
	now := time.Now().UTC()
	// SES receiving adds its own headers at the top: the local verdicts all pass.
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "Return-Path: <%s>\r\nX-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n", s.from)
	raw.Write(body)
	ctx := context.Background()
	key := s.o.Prefix + sesID
	if err := s.o.Store(ctx, key, raw.Bytes()); err != nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message: try again later"}
	}
	pass := events.SimpleEmailVerdict{Status: "PASS"}
	e := events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{EventSource: "aws:ses", EventVersion: "1.0", SES: events.SimpleEmailService{
		Mail:    events.SimpleEmailMessage{MessageID: sesID, Source: s.from, Timestamp: now, Destination: s.to},
		Receipt: events.SimpleEmailReceipt{Recipients: s.to, Timestamp: now, SpamVerdict: pass, VirusVerdict: pass, SPFVerdict: pass, DKIMVerdict: pass, DMARCVerdict: pass},
	}}}}
	// SES invokes the function after accepting the message: its failure is not the sender's.
	if err := s.o.Handle(ctx, e); err != nil && s.o.Log != nil {
		s.o.Log.Error("local inbound mail", "ses_message_id", sesID, "error", err)
	}
	return nil
}
