// Package ses sends the domain's emails through Amazon SES v2.
package ses

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Mailer sends one message per SendEmail call, with a text and an HTML part.
type Mailer struct {
	Client           *sesv2.Client
	From             string // "Peer Groups <peergroups@example.org>"
	ReplyTo          string // the admin address, or ""
	ConfigurationSet string // or ""
}

// Send sends m. Header names and values, and the recipient, are checked again here so
// that nothing a person typed can ever reach a header.
func (m *Mailer) Send(ctx context.Context, msg pg.Message) error {
	if !pg.ValidEmail(msg.To) {
		return fmt.Errorf("send email: recipient is not a plain address")
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return fmt.Errorf("send email: subject contains a line break")
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
			return fmt.Errorf("send email: header %q is not safe", h.Name)
		}
		in.Content.Simple.Headers = append(in.Content.Simple.Headers, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
	}
	if m.ReplyTo != "" {
		in.ReplyToAddresses = []string{m.ReplyTo}
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	if _, err := m.Client.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("send email: %w", err)
	}
	return nil
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
