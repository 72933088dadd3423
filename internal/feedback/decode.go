// Package feedback reads the events SES publishes about the email it sent, in the
// three shapes they reach us: an EventBridge event (the configuration set's event
// destination; the record is in "detail"), an SNS notification delivered to Lambda
// (the record is a JSON string in Records[].Sns.Message), or the bare record (for
// injecting events locally, where the SES stand-in publishes none).
package feedback

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// MaxEvent is the largest event read (EventBridge's own limit is 256 KB).
const MaxEvent = 1 << 20

// record is SES's event record (eventType) or notification (notificationType).
type record struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Timestamp   time.Time           `json:"timestamp"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
		FeedbackID        string      `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []recipient `json:"complainedRecipients"`
		ComplaintFeedbackType string      `json:"complaintFeedbackType"`
		Timestamp             time.Time   `json:"timestamp"`
		FeedbackID            string      `json:"feedbackId"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string  `json:"recipients"`
		Timestamp  time.Time `json:"timestamp"`
	} `json:"delivery"`
	DeliveryDelay *struct {
		DelayedRecipients []recipient `json:"delayedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
	} `json:"deliveryDelay"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
}

type recipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// Decode reads the events in one payload of any of the three shapes.
func Decode(b []byte) ([]pg.FeedbackEvent, error) {
	if len(b) > MaxEvent {
		return nil, fmt.Errorf("feedback event of %d bytes is over %d", len(b), MaxEvent)
	}
	var shape struct {
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Detail     json.RawMessage `json:"detail"`
		Records    []struct {
			Sns struct {
				Message string `json:"Message"`
			} `json:"Sns"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(b, &shape); err != nil {
		return nil, fmt.Errorf("feedback event: %w", err)
	}
	switch {
	case len(shape.Detail) > 0:
		if shape.Source != "aws.ses" {
			return nil, fmt.Errorf("an EventBridge event from %q, not SES", shape.Source)
		}
		e, err := decodeRecord(shape.Detail)
		if err != nil {
			return nil, err
		}
		return []pg.FeedbackEvent{e}, nil
	case len(shape.Records) > 0:
		var out []pg.FeedbackEvent
		var errs []error
		for i, r := range shape.Records {
			e, err := decodeRecord([]byte(r.Sns.Message))
			if err != nil {
				errs = append(errs, fmt.Errorf("record %d: %w", i, err))
				continue
			}
			out = append(out, e)
		}
		return out, errors.Join(errs...)
	}
	e, err := decodeRecord(b)
	if err != nil {
		return nil, err
	}
	return []pg.FeedbackEvent{e}, nil
}

func decodeRecord(b []byte) (pg.FeedbackEvent, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return pg.FeedbackEvent{}, fmt.Errorf("SES event record: %w", err)
	}
	e := pg.FeedbackEvent{Type: pg.OneLine(r.EventType, 40), MessageID: pg.OneLine(r.Mail.MessageID, 200), At: r.Mail.Timestamp}
	if e.Type == "" {
		e.Type = pg.OneLine(r.NotificationType, 40)
	}
	if e.Type == "" || e.MessageID == "" || strings.ContainsAny(e.MessageID, " /") {
		return pg.FeedbackEvent{}, fmt.Errorf("SES event record without a type or a message ID")
	}
	for k, v := range r.Mail.Tags {
		if pg.ValidTag(k) && len(v) > 0 && pg.ValidTag(v[0]) {
			if e.Tags == nil {
				e.Tags = map[string]string{}
			}
			e.Tags[k] = v[0]
		}
	}
	add := func(list []recipient) {
		for _, rc := range list {
			if email := pg.NormaliseEmail(rc.EmailAddress); pg.ValidEmail(email) {
				e.Recipients = append(e.Recipients, pg.FeedbackRecipient{Email: email, Status: pg.OneLine(rc.Status, 20), Diagnostic: pg.OneLine(rc.DiagnosticCode, 500)})
			}
		}
	}
	switch {
	case r.Bounce != nil:
		e.BounceType, e.BounceSubType = pg.OneLine(r.Bounce.BounceType, 40), pg.OneLine(r.Bounce.BounceSubType, 60)
		e.FeedbackID = pg.OneLine(r.Bounce.FeedbackID, 200)
		add(r.Bounce.BouncedRecipients)
		e.At = later(e.At, r.Bounce.Timestamp)
	case r.Complaint != nil:
		e.ComplaintType = pg.OneLine(r.Complaint.ComplaintFeedbackType, 40)
		e.FeedbackID = pg.OneLine(r.Complaint.FeedbackID, 200)
		add(r.Complaint.ComplainedRecipients)
		e.At = later(e.At, r.Complaint.Timestamp)
	case r.Delivery != nil:
		for _, to := range r.Delivery.Recipients {
			add([]recipient{{EmailAddress: to}})
		}
		e.At = later(e.At, r.Delivery.Timestamp)
	case r.DeliveryDelay != nil:
		add(r.DeliveryDelay.DelayedRecipients)
		e.At = later(e.At, r.DeliveryDelay.Timestamp)
	case r.Reject != nil:
		e.Reason = pg.OneLine(r.Reject.Reason, 200)
	}
	if r.Bounce == nil && r.Complaint == nil && r.Delivery == nil && r.DeliveryDelay == nil {
		// A Send or a Reject is about every recipient of the email.
		for _, to := range r.Mail.Destination {
			add([]recipient{{EmailAddress: to}})
		}
	}
	return e, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
