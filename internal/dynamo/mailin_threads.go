package dynamo

// Mail in: the emails of ours a reply answers. A ledger row, once sent, is listed in
// gsi1 under the SES message ID of its email (written by the settle that records the
// ID), so that a reply's In-Reply-To finds the round, the group and the recipient
// with one Query and no new item.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// sentIndexKeys adds to a settled ledger row's attributes the index keys that find it
// by its SES message ID, when it was sent.
func sentIndexKeys(attrs map[string]types.AttributeValue, r pg.LedgerRow) {
	if r.State == pg.LedgerSent && r.MessageID != "" {
		attrs[attrGSI1PK], attrs[attrGSI1SK] = s(sentMailPK(r.MessageID)), s(skSentMail)
	}
}

// SentMail returns the email of a round, or the transactional email (an outbox item),
// that SES sent with the message ID sesID; a KindNotFound error when there is none. The index is eventually consistent: a reply
// comes minutes after its email at the earliest.
func (st *MailInStore) SentMail(ctx context.Context, sesID string) (pg.SentMail, error) {
	if sesID == "" {
		return pg.SentMail{}, errNotFound
	}
	out, err := st.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(sentMailPK(sesID))},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return pg.SentMail{}, unavailable(fmt.Errorf("find the email SES sent as %s: %w", sesID, err))
	}
	if len(out.Items) == 0 {
		return pg.SentMail{}, errNotFound
	}
	var it struct {
		PK string `dynamodbav:"pk"`
		SK string `dynamodbav:"sk"`
		ledgerItem
		Conversation string `dynamodbav:"conversation"`
	}
	if err := attributevalue.UnmarshalMap(out.Items[0], &it); err != nil {
		return pg.SentMail{}, fmt.Errorf("decode the email SES sent as %s: %w", sesID, err)
	}
	if _, ok := OutboxID(it.PK, it.SK); ok {
		// A transactional email (the outbox's): the conversation it belongs to, if any.
		if expired(out.Items[0], st.now()) {
			return pg.SentMail{}, errNotFound
		}
		return pg.SentMail{Conversation: it.Conversation}, nil
	}
	// A round's announcement or brief (SEND#), or a reminder of its event (REMIND#).
	prefix, number, _ := strings.Cut(it.PK, "#")
	round, err := strconv.Atoi(number)
	if err != nil || (prefix != "SEND" && prefix != "REMIND") {
		return pg.SentMail{}, fmt.Errorf("the email SES sent as %s is in %q, not a round's ledger", sesID, it.PK)
	}
	return pg.SentMail{Round: round, Kind: pg.LedgerKind(it.Kind), Group: it.Group, Email: it.Email}, nil
}
