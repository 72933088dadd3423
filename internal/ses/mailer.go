// Package ses sends the domain's emails through Amazon SES v2.
package ses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Mailer sends one message per SendEmail call, with a text and an HTML part.
type Mailer struct {
	// send, sendBulk and account are the SES operations the mailer calls, as the
	// client's method values. It does not keep the client itself, on purpose: a Mailer
	// is used as an interface, and a client reachable from its type would make the
	// linker keep all of SES's operations in every binary that also renders templates
	// (text/template calls methods by name). NewMailer sets them.
	send     func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
	sendBulk func(context.Context, *sesv2.SendBulkEmailInput, ...func(*sesv2.Options)) (*sesv2.SendBulkEmailOutput, error)
	account  func(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)

	From             string  // "Peer Groups <peergroups@example.org>"
	ReplyTo          string  // the admin address, or ""
	ConfigurationSet string  // or ""
	FixedRate        float64 // emails a second; 0 asks SES (GetAccount's MaxSendRate)
}

// NewMailer returns a Mailer that sends with client, from the address from.
func NewMailer(client *sesv2.Client, from string) *Mailer {
	return &Mailer{send: client.SendEmail, sendBulk: client.SendBulkEmail, account: client.GetAccount, From: from}
}

// Send sends m. Header names and values, and the recipient, are checked again here so
// that nothing a person typed can ever reach a header. A message that can never be
// sent (ours or SES's verdict) comes back as peergroups.ErrRejected; any other error
// may pass, and the message is worth sending again later.
func (m *Mailer) Send(ctx context.Context, msg pg.Message) error {
	_, err := m.SendMessage(ctx, msg)
	return err
}

// SendMessage is Send, returning the message ID SES gave the email.
func (m *Mailer) SendMessage(ctx context.Context, msg pg.Message) (string, error) {
	if !pg.ValidEmail(msg.To) {
		return "", fmt.Errorf("send email: %w: recipient is not a plain address", pg.ErrRejected)
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return "", fmt.Errorf("send email: %w: subject contains a line break", pg.ErrRejected)
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{msg.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	for _, h := range msg.Headers {
		if !safeHeader(h.Name) || strings.ContainsAny(h.Value, "\r\n") {
			return "", fmt.Errorf("send email: %w: header %q is not safe", pg.ErrRejected, h.Name)
		}
		in.Content.Simple.Headers = append(in.Content.Simple.Headers, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
	}
	for name, value := range msg.Tags {
		if !pg.ValidTag(name) || !pg.ValidTag(value) {
			return "", fmt.Errorf("send email: %w: tag %q is not letters, digits, _ and -", pg.ErrRejected, name)
		}
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(name), Value: aws.String(value)})
	}
	if m.ReplyTo != "" {
		in.ReplyToAddresses = []string{m.ReplyTo}
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.send(ctx, in)
	if err != nil {
		if throttled(err) {
			return "", fmt.Errorf("send email: %w: %v", pg.ErrThrottled, err)
		}
		if rejected(err) {
			return "", fmt.Errorf("send email: %w: %v", pg.ErrRejected, err)
		}
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// rejected reports whether SES refused a message for good: by its error types in AWS
// (a rejected message, an unverified sender, a bad request), or by a 4xx status other
// than 403 and 429 where errors are untyped (the SES stand-in). Throttling, 5xx,
// permissions and network errors may pass.
func rejected(err error) bool {
	var (
		msgRejected *types.MessageRejected
		notVerified *types.MailFromDomainNotVerifiedException
		badRequest  *types.BadRequestException
		notFound    *types.NotFoundException
	)
	if errors.As(err, &msgRejected) || errors.As(err, &notVerified) || errors.As(err, &badRequest) || errors.As(err, &notFound) {
		return true
	}
	if throttled(err) {
		return false
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	// 403: a permission or a paused account, which an operator can put right.
	code := re.HTTPStatusCode()
	return code >= 400 && code < 500 && code != 403
}

// safeHeader reports whether name is a header field name (RFC 5322: printable ASCII, no colon).
func safeHeader(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// MaxBulkDestinations is the most destinations SES takes in one SendBulkEmail call.
const MaxBulkDestinations = 50

// SendBulk sends a template to up to 50 destinations in one SendBulkEmail call, each
// with its own values and headers (List-Unsubscribe). A throttling answer from SES
// comes back as peergroups.ErrThrottled.
func (m *Mailer) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	if len(to) == 0 || len(to) > MaxBulkDestinations {
		return nil, fmt.Errorf("send bulk: %d destinations, want 1 to %d", len(to), MaxBulkDestinations)
	}
	if strings.ContainsAny(t.Subject, "\r\n") {
		return nil, fmt.Errorf("send bulk: subject contains a line break")
	}
	in := &sesv2.SendBulkEmailInput{
		FromEmailAddress: aws.String(m.From),
		DefaultContent: &types.BulkEmailContent{Template: &types.Template{
			TemplateContent: &types.EmailTemplateContent{Subject: aws.String(t.Subject), Text: aws.String(t.Text), Html: aws.String(t.HTML)},
			TemplateData:    aws.String("{}"),
		}},
	}
	for _, d := range to {
		if !pg.ValidEmail(d.To) {
			return nil, fmt.Errorf("send bulk: a recipient is not a plain address")
		}
		data, err := json.Marshal(d.Data)
		if err != nil {
			return nil, fmt.Errorf("send bulk: %w", err)
		}
		entry := types.BulkEmailEntry{
			Destination:             &types.Destination{ToAddresses: []string{d.To}},
			ReplacementEmailContent: &types.ReplacementEmailContent{ReplacementTemplate: &types.ReplacementTemplate{ReplacementTemplateData: aws.String(string(data))}},
		}
		for _, h := range d.Headers {
			if !safeHeader(h.Name) || strings.ContainsAny(h.Value, "\r\n") {
				return nil, fmt.Errorf("send bulk: header %q is not safe", h.Name)
			}
			entry.ReplacementHeaders = append(entry.ReplacementHeaders, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
		}
		for name, value := range d.Tags {
			if !pg.ValidTag(name) || !pg.ValidTag(value) {
				return nil, fmt.Errorf("send bulk: tag %q is not letters, digits, _ and -", name)
			}
			entry.ReplacementTags = append(entry.ReplacementTags, types.MessageTag{Name: aws.String(name), Value: aws.String(value)})
		}
		in.BulkEmailEntries = append(in.BulkEmailEntries, entry)
	}
	if m.ReplyTo != "" {
		in.ReplyToAddresses = []string{m.ReplyTo}
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.sendBulk(ctx, in)
	if err != nil {
		if throttled(err) {
			return nil, fmt.Errorf("send bulk: %w: %v", pg.ErrThrottled, err)
		}
		return nil, fmt.Errorf("send bulk: %w", err)
	}
	results := make([]pg.BulkResult, len(to))
	for i := range to {
		if i >= len(out.BulkEmailEntryResults) {
			results[i].Error = "no result from SES"
			continue
		}
		r := out.BulkEmailEntryResults[i]
		if r.Status == types.BulkEmailStatusSuccess {
			results[i].MessageID = aws.ToString(r.MessageId)
		} else {
			results[i].Error = string(r.Status) + ": " + aws.ToString(r.Error)
			results[i].Later = !permanent(r.Status)
		}
	}
	return results, nil
}

// permanent reports whether a destination's status in a bulk send means that sending
// it again would fail again: SES rejected the message for this recipient, or a value
// in it is invalid. Every other status (ACCOUNT_THROTTLED, TRANSIENT_FAILURE,
// ACCOUNT_DAILY_QUOTA_EXCEEDED, a paused account or configuration set, FAILED, and
// any status SES adds later) passes, or is ours to fix: the recipient is tried again.
func permanent(status types.BulkEmailStatus) bool {
	switch status {
	case types.BulkEmailStatusMessageRejected, types.BulkEmailStatusInvalidParameter:
		return true
	}
	return false
}

// throttled reports whether SES asked us to slow down: by its error types in AWS, by
// the HTTP status (429) anywhere, the SES stand-in's errors being untyped.
func throttled(err error) bool {
	var tooMany *types.TooManyRequestsException
	var limit *types.LimitExceededException
	if errors.As(err, &tooMany) || errors.As(err, &limit) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "Throttling" || apiErr.ErrorCode() == "ThrottlingException") {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 429
}

// MaxSendRate returns the fixed rate the mailer was given, or SES's MaxSendRate.
func (m *Mailer) MaxSendRate(ctx context.Context) (float64, error) {
	if m.FixedRate > 0 {
		return m.FixedRate, nil
	}
	out, err := m.account(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return 0, fmt.Errorf("get SES account: %w", err)
	}
	if out.SendQuota == nil || out.SendQuota.MaxSendRate <= 0 {
		return 0, fmt.Errorf("SES reports no maximum send rate")
	}
	return out.SendQuota.MaxSendRate, nil
}
