package dynamo

// Mail in: the console's inbox. Conversations are listed from gsi1 by status (no
// Scan), a facilitator's filtered to their groups; changes are conditional on the
// version read.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// inboxMaxPages bounds the pages read for one list of the inbox.
const inboxMaxPages = 50

// inboxQuery is the query of one status's conversations in gsi1, latest first, of
// groups when not nil.
func (st *MailInStore) inboxQuery(status string, groups []string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(inboxPK(status))},
	}
	if groups != nil {
		if len(groups) == 0 {
			groups = []string{"\x00none"} // nobody's group: matches nothing
		}
		names := make([]string, len(groups))
		for i, g := range groups {
			names[i] = ":g" + strconv.Itoa(i)
			in.ExpressionAttributeValues[names[i]] = s(g)
		}
		in.FilterExpression = aws.String("#group IN (" + strings.Join(names, ", ") + ")")
		in.ExpressionAttributeNames = map[string]string{"#group": "group"}
	}
	return in
}

// Inbox lists the conversations of a status, latest first, at most limit of them.
func (st *MailInStore) Inbox(ctx context.Context, status string, groups []string, limit int) ([]pg.Conversation, error) {
	var out []pg.Conversation
	p := dynamodb.NewQueryPaginator(st.db.Query, st.inboxQuery(status, groups))
	for pages := 0; p.HasMorePages() && pages < inboxMaxPages && len(out) < limit; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query the %s inbox: %w", status, err))
		}
		var items []conversationItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode the %s inbox: %w", status, err)
		}
		for _, it := range items {
			if len(out) < limit {
				out = append(out, it.conversation())
			}
		}
	}
	return out, nil
}

// CountInbox counts the conversations of a status without reading them.
func (st *MailInStore) CountInbox(ctx context.Context, status string, groups []string) (int, error) {
	in := st.inboxQuery(status, groups)
	in.Select = types.SelectCount
	total := 0
	p := dynamodb.NewQueryPaginator(st.db.Query, in)
	for pages := 0; p.HasMorePages() && pages < inboxMaxPages; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, unavailable(fmt.Errorf("count the %s inbox: %w", status, err))
		}
		total += int(page.Count)
	}
	return total, nil
}

// inboxMessageItem is a message of a conversation, received or one of our replies.
type inboxMessageItem struct {
	inboundItem
	By string `dynamodbav:"by,omitempty"`
}

// ConversationMessages reads a conversation's messages, oldest first.
func (st *MailInStore) ConversationMessages(ctx context.Context, ref string) ([]pg.InboxMessage, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, conversationPK(ref), "MSG#", &raw); err != nil {
		return nil, err
	}
	// TTL deletion is lazy: a message past its retention is gone already.
	raw = slices.DeleteFunc(raw, func(it map[string]types.AttributeValue) bool { return expired(it, st.now()) })
	var items []inboxMessageItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode the messages of %s: %w", ref, err)
	}
	out := make([]pg.InboxMessage, len(items))
	for i, it := range items {
		out[i] = pg.InboxMessage{By: it.By, InboundMessage: pg.InboundMessage{
			ID: it.ID, RawKey: it.RawKey, Received: parseStampMilli(it.Received), Recipients: it.Recipients, From: it.From, FromName: it.FromName,
			ReturnPath: it.ReturnPath, Subject: it.Subject, MessageID: it.MessageID, InReplyTo: it.InReplyTo, Text: it.Text,
			Attachments: it.Attachments, Automatic: it.Automatic, Report: it.Report, Verdicts: it.Verdicts,
		}}
	}
	return out, nil
}

// SaveConversation writes a conversation over the version before c.Version, with one
// of our replies and the emails out, and the audit entry, in one transaction.
func (st *MailInStore) SaveConversation(ctx context.Context, c pg.Conversation, m *pg.InboxMessage, out []pg.OutboxItem, a pg.AuditEntry) error {
	convPut, err := st.conversationPut(c)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: convPut}}
	if m != nil {
		msg, err := attributevalue.MarshalMap(inboxMessageItem{By: m.By, inboundItem: inboundItem{
			ID: m.ID, Received: stampMilli(m.Received), Recipients: m.Recipients, From: m.From, FromName: m.FromName,
			Subject: m.Subject, InReplyTo: m.InReplyTo, Text: m.Text,
		}})
		if err != nil {
			return fmt.Errorf("encode reply: %w", err)
		}
		msg[attrPK], msg[attrSK] = s(conversationPK(c.Ref)), s(inboundSK(m.Received, m.ID))
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: msg, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	puts, err := st.outboxPuts(out)
	if err != nil {
		return err
	}
	items = append(items, puts...)
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "save conversation", append(items, audit), 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return fmt.Errorf("conversation %s changed meanwhile: %w", c.Ref, pg.ErrConversationChanged)
	}
	return err
}
