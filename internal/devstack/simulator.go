package devstack

// The dev mailbox simulator. The SES stand-in publishes no events (no configuration
// sets, no event destinations), so this produces the records SES would publish for
// each email it accepted, as SES's own mailbox simulator does for its addresses at
// simulator.amazonses.com, and hands them to the feedback handler: every email is
// sent (Send), then delivered, except to
//
//	bounce@simulator.amazonses.com           a permanent bounce (General, 5.1.1)
//	complaint@simulator.amazonses.com        delivered, then a complaint (abuse)
//	ooto@simulator.amazonses.com             delivered, and an out-of-office reply to the sender
//	suppressionlist@simulator.amazonses.com  a permanent bounce (OnAccountSuppressionList)
//
// It watches the SES client's SendEmail and SendBulkEmail calls through an SDK
// middleware (APIOption), since the stand-in keeps no tags.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go/middleware"
)

// SimulatorDomain is the domain of SES's mailbox simulator.
const SimulatorDomain = "simulator.amazonses.com"

// SentEmail is one accepted email to one recipient, as the simulator saw it sent.
type SentEmail struct {
	MessageID string
	From      string
	To        string
	Subject   string
	Tags      map[string]string
	At        time.Time
}

// MailboxSimulator produces SES's events for the email the SES client sends.
type MailboxSimulator struct {
	// Deliver hands one SES event record (the bare record) to the feedback handler.
	Deliver func(ctx context.Context, record []byte) error
	// AutoReply, if set, receives the out-of-office reply to an email to ooto@: the
	// address it goes to (the email's sender) and the raw message.
	AutoReply func(ctx context.Context, to string, raw []byte) error
	Log       *slog.Logger
	Now       func() time.Time // nil: time.Now

	mu   sync.Mutex
	sent map[string]SentEmail // by message ID: what `make feedback` injects events about
}

// APIOption is an SDK option for the SES client: after each accepted send, the
// simulator delivers the events of each of its recipients (in the caller's goroutine
// when sync, so that tests see them at once; else in the background, as SES does).
func (s *MailboxSimulator) APIOption(sync bool) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DevMailboxSimulator",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil {
					return out, md, err
				}
				sent := s.observe(in.Parameters, out.Result)
				if sync {
					s.deliverAll(context.WithoutCancel(ctx), sent)
				} else if len(sent) > 0 {
					go s.deliverAll(context.WithoutCancel(ctx), sent)
				}
				return out, md, err
			}), middleware.After)
	}
}

// observe returns what a SendEmail or SendBulkEmail call sent, and remembers it.
func (s *MailboxSimulator) observe(params, result any) []SentEmail {
	now := s.now()
	var sent []SentEmail
	switch in := params.(type) {
	case *sesv2.SendEmailInput:
		out, ok := result.(*sesv2.SendEmailOutput)
		if !ok || in.Destination == nil {
			return nil
		}
		subject := ""
		if in.Content != nil && in.Content.Simple != nil && in.Content.Simple.Subject != nil {
			subject = aws.ToString(in.Content.Simple.Subject.Data)
		}
		for _, to := range in.Destination.ToAddresses {
			sent = append(sent, SentEmail{MessageID: aws.ToString(out.MessageId), From: aws.ToString(in.FromEmailAddress), To: to, Subject: subject, Tags: tags(in.EmailTags), At: now})
		}
	case *sesv2.SendBulkEmailInput:
		out, ok := result.(*sesv2.SendBulkEmailOutput)
		if !ok {
			return nil
		}
		for i, e := range in.BulkEmailEntries {
			if i >= len(out.BulkEmailEntryResults) || out.BulkEmailEntryResults[i].Status != types.BulkEmailStatusSuccess || e.Destination == nil {
				continue
			}
			t := tags(in.DefaultEmailTags)
			for k, v := range tags(e.ReplacementTags) {
				t[k] = v
			}
			for _, to := range e.Destination.ToAddresses {
				sent = append(sent, SentEmail{MessageID: aws.ToString(out.BulkEmailEntryResults[i].MessageId), From: aws.ToString(in.FromEmailAddress), To: to, Tags: t, At: now})
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]SentEmail{}
	}
	for _, e := range sent {
		s.sent[e.MessageID] = e
	}
	return sent
}

// Sent returns what the simulator saw sent with an SES message ID.
func (s *MailboxSimulator) Sent(messageID string) (SentEmail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.sent[messageID]
	return e, ok
}

func (s *MailboxSimulator) deliverAll(ctx context.Context, sent []SentEmail) {
	for _, e := range sent {
		for _, typ := range SimulatedEvents(e.To) {
			if err := s.Inject(ctx, e, typ); err != nil {
				s.Log.ErrorContext(ctx, "mailbox simulator: event not applied", "type", typ, "message", e.MessageID, "error", err)
			}
		}
		if strings.EqualFold(e.To, "ooto@"+SimulatorDomain) && s.AutoReply != nil && e.From != "" {
			if err := s.AutoReply(ctx, e.From, outOfOffice(e, s.now())); err != nil {
				s.Log.WarnContext(ctx, "mailbox simulator: out-of-office reply not delivered", "error", err)
			}
		}
	}
}

// SimulatedEvents are the events SES publishes for an email to the address, in order.
// As in SES's own simulator, a label after + is ignored (bounce+round4@…), so that
// tests and people can tell their simulated addresses apart.
func SimulatedEvents(to string) []string {
	to = strings.ToLower(to)
	if local, domain, ok := strings.Cut(to, "@"); ok {
		if base, _, labelled := strings.Cut(local, "+"); labelled {
			to = base + "@" + domain
		}
	}
	switch to {
	case "bounce@" + SimulatorDomain:
		return []string{"Send", "Bounce"}
	case "suppressionlist@" + SimulatorDomain:
		return []string{"Send", "Bounce/OnAccountSuppressionList"}
	case "complaint@" + SimulatorDomain:
		return []string{"Send", "Delivery", "Complaint"}
	}
	return []string{"Send", "Delivery"}
}

// Inject delivers one event of type typ about the email e: Send, Delivery,
// DeliveryDelay, Bounce (permanent, General), Bounce/<subtype> (permanent),
// TransientBounce (Transient/General), Complaint or Reject.
func (s *MailboxSimulator) Inject(ctx context.Context, e SentEmail, typ string) error {
	record, err := Record(e, typ, s.now())
	if err != nil {
		return err
	}
	return s.Deliver(ctx, record)
}

// Record is the SES event record (as in an EventBridge event's detail) of type typ
// about the email e, at at.
func Record(e SentEmail, typ string, at time.Time) ([]byte, error) {
	stamp := at.UTC().Format("2006-01-02T15:04:05.000Z")
	tagLists := map[string][]string{}
	for k, v := range e.Tags {
		tagLists[k] = []string{v}
	}
	rec := map[string]any{"mail": map[string]any{
		"timestamp": e.At.UTC().Format("2006-01-02T15:04:05.000Z"), "messageId": e.MessageID, "source": e.From,
		"destination": []string{e.To}, "tags": tagLists,
	}}
	feedbackID := fmt.Sprintf("dev-%s-%d", e.MessageID, at.UnixNano())
	bounce := func(bounceType, subType, status, diagnostic string) {
		rec["eventType"] = "Bounce"
		rec["bounce"] = map[string]any{
			"feedbackId": feedbackID, "bounceType": bounceType, "bounceSubType": subType, "timestamp": stamp,
			"bouncedRecipients": []map[string]string{{"emailAddress": e.To, "action": "failed", "status": status, "diagnosticCode": diagnostic}},
		}
	}
	switch {
	case typ == "Send":
		rec["eventType"], rec["send"] = "Send", map[string]any{}
	case typ == "Delivery":
		rec["eventType"] = "Delivery"
		rec["delivery"] = map[string]any{"timestamp": stamp, "recipients": []string{e.To}, "smtpResponse": "250 2.0.0 OK", "processingTimeMillis": 120}
	case typ == "DeliveryDelay":
		rec["eventType"] = "DeliveryDelay"
		rec["deliveryDelay"] = map[string]any{"timestamp": stamp, "delayType": "TransientCommunicationFailure",
			"delayedRecipients": []map[string]string{{"emailAddress": e.To, "status": "4.4.1", "diagnosticCode": "smtp; 421 4.4.1 try again later"}}}
	case typ == "Bounce":
		bounce("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown")
	case typ == "TransientBounce":
		bounce("Transient", "General", "4.2.2", "smtp; 452 4.2.2 mailbox full")
	case strings.HasPrefix(typ, "Bounce/"):
		bounce("Permanent", strings.TrimPrefix(typ, "Bounce/"), "5.1.1", "Amazon SES did not send the message to this address because it is on the suppression list for your account.")
	case typ == "Complaint":
		rec["eventType"] = "Complaint"
		rec["complaint"] = map[string]any{"feedbackId": feedbackID, "timestamp": stamp, "complaintFeedbackType": "abuse",
			"complainedRecipients": []map[string]string{{"emailAddress": e.To}}}
	case typ == "Reject":
		rec["eventType"], rec["reject"] = "Reject", map[string]any{"reason": "Bad content"}
	default:
		return nil, fmt.Errorf("no such SES event type %q (Send, Delivery, DeliveryDelay, Bounce, Bounce/<subtype>, TransientBounce, Complaint, Reject)", typ)
	}
	return json.Marshal(rec)
}

// outOfOffice is the automatic reply ooto@ sends back, marked as such (RFC 3834).
func outOfOffice(e SentEmail, at time.Time) []byte {
	return []byte("From: ooto@" + SimulatorDomain + "\r\nTo: " + e.From + "\r\nSubject: Out of the office\r\n" +
		"Date: " + at.UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <ooto-" + e.MessageID + "@" + SimulatorDomain + ">\r\n" +
		"In-Reply-To: <" + e.MessageID + "@eu-west-2.amazonses.com>\r\nAuto-Submitted: auto-replied\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nI am out of the office and will read your message when I return.\r\n")
}

func tags(list []types.MessageTag) map[string]string {
	out := map[string]string{}
	for _, t := range list {
		out[aws.ToString(t.Name)] = aws.ToString(t.Value)
	}
	return out
}

func (s *MailboxSimulator) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
