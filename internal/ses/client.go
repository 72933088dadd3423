package ses

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Client is the SES operations the mailer uses, each a method value of one
// *sesv2.Client. The mailer holds these rather than the *sesv2.Client so that a
// function's binary links only these operations, not SES's hundred-odd: see
// dynamo.Client for why. To use another operation, add it here.
type Client struct {
	getAccount    func(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
	sendBulkEmail func(context.Context, *sesv2.SendBulkEmailInput, ...func(*sesv2.Options)) (*sesv2.SendBulkEmailOutput, error)
	sendEmail     func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// NewClient returns the operations of c.
func NewClient(c *sesv2.Client) Client {
	return Client{getAccount: c.GetAccount, sendBulkEmail: c.SendBulkEmail, sendEmail: c.SendEmail}
}

func (c Client) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, opts ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	return c.getAccount(ctx, in, opts...)
}

func (c Client) SendBulkEmail(ctx context.Context, in *sesv2.SendBulkEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendBulkEmailOutput, error) {
	return c.sendBulkEmail(ctx, in, opts...)
}

func (c Client) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return c.sendEmail(ctx, in, opts...)
}
