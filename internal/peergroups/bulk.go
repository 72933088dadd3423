package peergroups

import (
	"context"
	"errors"
)

// BulkTemplate is the content of a bulk send: every destination gets it with its own
// values put in for {{placeholders}}.
type BulkTemplate struct {
	Subject string
	Text    string
	HTML    string
}

// BulkDestination is one recipient of a bulk send, with their values and headers.
type BulkDestination struct {
	To      string
	Data    map[string]string
	Headers []Header
	Tags    map[string]string // SES message tags (ASCII letters, digits, _ and -): see LedgerTags
}

// BulkResult is what happened to one destination: a message ID, or why not.
type BulkResult struct {
	MessageID string
	Error     string
	// Later is set when the mail service did not take this destination for a reason
	// that passes (throttling, a transient failure, the daily quota): send it again
	// later rather than record it as failed.
	Later bool
}

// BulkMailer sends one template to many destinations in one call.
type BulkMailer interface {
	SendBulk(ctx context.Context, t BulkTemplate, to []BulkDestination) ([]BulkResult, error)
	// MaxSendRate returns how many emails a second the mail service allows.
	MaxSendRate(ctx context.Context) (float64, error)
}

// ErrThrottled is returned by a mailer when the mail service asks us to slow down.
var ErrThrottled = errors.New("the mail service is throttling us")
