package mailin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// RawStore reads the raw messages SES stored (S3).
type RawStore interface {
	// RawMessage returns a stored message; a KindNotFound error when there is none.
	RawMessage(ctx context.Context, key string) ([]byte, error)
}

// Receiver is the mail-in service.
type Receiver interface {
	Receive(ctx context.Context, m pg.InboundMessage) (pg.MailReceipt, error)
}

// FileStore keeps the attachments of the messages received, each apart (S3), so that
// the console can hand out links to them without reading a raw message.
type FileStore interface {
	// PutAttachment stores a file at key (the same bytes at the same key: writing it
	// again changes nothing).
	PutAttachment(ctx context.Context, key string, body []byte) error
}

// Handler is the inbound function: SES has stored each message in S3 (the receipt
// rule's S3 action, at Prefix + its message ID) and then invoked it (the Lambda action,
// asynchronously: Lambda tries a failed event twice more, then sends it to the
// function's failure destination). The local SMTP listener calls it the same way.
type Handler struct {
	Raw      RawStore
	Receiver Receiver
	Files    FileStore // nil: attachments are listed, not stored apart
	Prefix   string    // the S3 action's ObjectKeyPrefix
	Log      *slog.Logger
}

// Handle receives each message of an SES event. A message that cannot be read is
// still recorded (its raw bytes are in S3), never dropped.
func (h *Handler) Handle(ctx context.Context, e events.SimpleEmailEvent) error {
	var errs []error
	for _, rec := range e.Records {
		if err := h.one(ctx, rec.SES); err != nil {
			h.Log.ErrorContext(ctx, "receive mail", "ses_message_id", rec.SES.Mail.MessageID, "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) one(ctx context.Context, s events.SimpleEmailService) error {
	id := s.Mail.MessageID
	if id == "" || strings.ContainsAny(id, "/ ") || len(id) > 200 {
		return fmt.Errorf("SES message ID %q cannot name a stored message", id)
	}
	key := h.Prefix + id
	raw, err := h.Raw.RawMessage(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err) // tried again by Lambda
	}
	var in pg.InboundMessage
	if m, err := Parse(raw); err != nil {
		// Not a message we can read (no header block, over the size): kept and shown to
		// the admins as such; never answered.
		in = pg.InboundMessage{ID: id, RawKey: key, Received: s.Receipt.Timestamp, Recipients: s.Receipt.Recipients,
			Subject: "(a message that could not be read)", Automatic: "unreadable: " + pg.OneLine(err.Error(), 100)}
	} else {
		in = m.Inbound(id, key, s.Receipt.Recipients, s.Receipt.Timestamp)
		if err := h.storeAttachments(ctx, m, &in); err != nil {
			return err // tried again by Lambda: the keys are the files' hashes
		}
	}
	// SES's own verdicts are in the event; headers that say otherwise may be the sender's.
	r := s.Receipt
	in.Verdicts = pg.MailVerdicts{
		Spam: verdict(r.SpamVerdict.Status, in.Verdicts.Spam), Virus: verdict(r.VirusVerdict.Status, in.Verdicts.Virus),
		SPF: verdict(r.SPFVerdict.Status, in.Verdicts.SPF), DKIM: verdict(r.DKIMVerdict.Status, in.Verdicts.DKIM),
		DMARC: verdict(r.DMARCVerdict.Status, in.Verdicts.DMARC), DMARCPolicy: strings.ToLower(cmp.Or(r.DMARCPolicy, in.Verdicts.DMARCPolicy)),
	}
	if in.Received.IsZero() {
		in.Received = s.Mail.Timestamp
	}
	receipt, err := h.Receiver.Receive(ctx, in)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "mail received", "ses_message_id", id, "conversation", receipt.Conversation.Ref, "status", receipt.Conversation.Status,
		"class", receipt.Conversation.Class, "duplicate", receipt.Duplicate, "acknowledged", receipt.Acknowledged)
	return nil
}

func verdict(event, header string) string {
	return strings.ToUpper(cmp.Or(pg.OneLine(event, 20), header))
}
