package dynamo

// Mail in: the console's inbox. Conversations are listed from gsi1 by status (no
// Scan): an admin's from the status's partition, a facilitator's from their groups'
// own partitions; changes are conditional on the version read.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// inboxMaxPages bounds the pages read for one list of the inbox.
const inboxMaxPages = 50

// inboxQuery is the query of one status's conversations in gsi1, latest first: every
// one's (INBOX#<status>), or one group's (GROUPINBOX#<group>#<status>).
func (st *MailInStore) inboxQuery(pk string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
	}
}

// inboxKeys are the gsi1 partitions of a status's conversations: the status's own
// when groups is nil, otherwise each group's.
func inboxKeys(status string, groups []string) []string {
	if groups == nil {
		return []string{inboxPK(status)}
	}
	keys := make([]string, 0, len(groups))
	for _, g := range groups {
		keys = append(keys, groupInboxPK(g, status))
	}
	return keys
}

// Inbox lists the conversations of a status, latest first, at most limit of them:
// every one when groups is nil, otherwise those of groups, each group's read from its
// own partition (nothing of another group's is read).
func (st *MailInStore) Inbox(ctx context.Context, status string, groups []string, limit int) ([]pg.Conversation, error) {
	var out []pg.Conversation
	for _, pk := range inboxKeys(status, groups) {
		p := dynamodb.NewQueryPaginator(st.db.Query, st.inboxQuery(pk))
		for pages, n := 0, 0; p.HasMorePages() && pages < inboxMaxPages && n < limit; pages++ {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, unavailable(fmt.Errorf("query the %s inbox: %w", status, err))
			}
			var items []conversationItem
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
				return nil, fmt.Errorf("decode the %s inbox: %w", status, err)
			}
			for _, it := range items {
				if n < limit {
					out, n = append(out, it.conversation()), n+1
				}
			}
		}
	}
	// Several groups' lists, each latest first, make one.
	slices.SortStableFunc(out, func(a, b pg.Conversation) int {
		return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.Ref, b.Ref))
	})
	return out[:min(len(out), limit)], nil
}

// CountInbox counts the conversations of a status without reading them.
func (st *MailInStore) CountInbox(ctx context.Context, status string, groups []string) (int, error) {
	total := 0
	for _, pk := range inboxKeys(status, groups) {
		in := st.inboxQuery(pk)
		in.Select = types.SelectCount
		p := dynamodb.NewQueryPaginator(st.db.Query, in)
		for pages := 0; p.HasMorePages() && pages < inboxMaxPages; pages++ {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, unavailable(fmt.Errorf("count the %s inbox: %w", status, err))
			}
			total += int(page.Count)
		}
	}
	return total, nil
}

// conversationGroupWrite writes, or deletes, the copy of a conversation that lists it
// in its group's inbox (skConversationGroup), in the transaction that writes the
// conversation: a conversation assigned to another group moves, one assigned to the
// admins leaves its group's.
func (st *MailInStore) conversationGroupWrite(c pg.Conversation) (types.TransactWriteItem, error) {
	if c.Group == "" {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(conversationPK(c.Ref), skConversationGroup)}}, nil
	}
	put, err := st.conversationPut(c)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	item := maps.Clone(put.Item)
	item[attrSK], item[attrGSI1PK] = s(skConversationGroup), s(groupInboxPK(c.Group, c.Status))
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}}, nil
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
	var by []types.TransactWriteItem
	if m != nil {
		// Listed under who wrote it (authored.go); its sender and name go with it.
		by = st.authoredPut(m.By, authored{PK: conversationPK(c.Ref), SK: inboundSK(m.Received, m.ID), Field: "by", Blank: []string{"from", "fromName"},
			What: pg.AuthoredReply, Group: c.Group, Ref: c.Ref}, m.Received)
	}
	puts, err := st.outboxPuts(out)
	if err != nil {
		return err
	}
	items = append(items, puts...)
	groupWrite, err := st.conversationGroupWrite(c)
	if err != nil {
		return err
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "save conversation", append(append(items, groupWrite, audit), by...), 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return fmt.Errorf("conversation %s changed meanwhile: %w", c.Ref, pg.ErrConversationChanged)
	}
	return err
}
