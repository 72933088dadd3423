package dynamo

// Mail in: inbound messages, their conversations, and the per-sender counters that
// find a flood.

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// conversationItem is a conversation (pk CONV#<ref>, sk CONV), listed by status in
// gsi1 (INBOX#<status>, <updated>#<ref>).
type conversationItem struct {
	Ref       string   `dynamodbav:"ref"`
	Status    string   `dynamodbav:"status"`
	Group     string   `dynamodbav:"group"`
	Named     string   `dynamodbav:"named"`
	Class     string   `dynamodbav:"class"`
	Matched   []string `dynamodbav:"matched,omitempty"`
	From      string   `dynamodbav:"from"`
	FromName  string   `dynamodbav:"fromName"`
	Subject   string   `dynamodbav:"subject"`
	Why       string   `dynamodbav:"why"`
	Flood     bool     `dynamodbav:"flood"`
	Started   string   `dynamodbav:"started"`
	Updated   string   `dynamodbav:"updated"`
	Deadline  string   `dynamodbav:"deadline"`
	Messages  int      `dynamodbav:"messages"`
	AckedOn   string   `dynamodbav:"ackedOn"`
	Notified  string   `dynamodbav:"notified"`
	Version   int      `dynamodbav:"version"`
	LastMsgID string   `dynamodbav:"lastMsgId"`
}

// inboundItem is one message of a conversation (pk CONV#<ref>, sk MSG#<received>#<id>).
type inboundItem struct {
	ID          string                 `dynamodbav:"id"`
	RawKey      string                 `dynamodbav:"rawKey"`
	Received    string                 `dynamodbav:"received"`
	Recipients  []string               `dynamodbav:"recipients,omitempty"`
	From        string                 `dynamodbav:"from"`
	FromName    string                 `dynamodbav:"fromName"`
	ReturnPath  string                 `dynamodbav:"returnPath"`
	Subject     string                 `dynamodbav:"subject"`
	MessageID   string                 `dynamodbav:"messageId"`
	InReplyTo   string                 `dynamodbav:"inReplyTo"`
	Text        string                 `dynamodbav:"text"`
	Attachments []pg.InboundAttachment `dynamodbav:"attachments,omitempty"`
	Automatic   string                 `dynamodbav:"automatic"`
	Report      string                 `dynamodbav:"report"`
	Verdicts    pg.MailVerdicts        `dynamodbav:"verdicts"`
}

// maxStoredText is the most of a message's text kept in its item (DynamoDB's items are
// at most 400 KB; the whole message is in S3).
const maxStoredText = 64 << 10

// SaveInbound stores a message, its conversation and the emails it calls for, in one
// transaction, once: pg.ErrDuplicateMail when the message is stored already,
// pg.ErrContended when the conversation changed meanwhile.
func (st *MailInStore) SaveInbound(ctx context.Context, m pg.InboundMessage, c pg.Conversation, counters []pg.MailCounter, out []pg.OutboxItem, a pg.AuditEntry) error {
	text := m.Text
	if len(text) > maxStoredText {
		text = text[:maxStoredText]
	}
	msg, err := attributevalue.MarshalMap(inboundItem{
		ID: m.ID, RawKey: m.RawKey, Received: stampMilli(m.Received), Recipients: m.Recipients, From: m.From, FromName: m.FromName,
		ReturnPath: m.ReturnPath, Subject: m.Subject, MessageID: m.MessageID, InReplyTo: m.InReplyTo, Text: text,
		Attachments: m.Attachments, Automatic: m.Automatic, Report: m.Report, Verdicts: m.Verdicts,
	})
	if err != nil {
		return fmt.Errorf("encode inbound message: %w", err)
	}
	msg[attrPK], msg[attrSK] = s(conversationPK(c.Ref)), s(inboundSK(m.Received, m.ID))
	if m.From != "" {
		// Listed by sender, so that a person's export and erasure find their messages.
		msg[attrGSI1PK], msg[attrGSI1SK] = s(senderPK(m.From)), s(inboundSK(m.Received, m.ID))
	}
	if st.Retention.InboundMail > 0 {
		// Kept as long as the raw message (the receiving bucket's lifecycle rule).
		msg[attrTTL] = n(m.Received.Add(st.Retention.InboundMail).Unix())
	}
	convPut, err := st.conversationPut(c)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
			attrPK: s(inboundPK(m.ID)), attrSK: s(skInbound), "ref": s(c.Ref),
		}}},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: msg}},
		{Put: convPut},
	}
	for _, k := range counters {
		u := &types.Update{
			TableName:                 aws.String(st.Table),
			Key:                       key(rateLimitPK(k.Key), skRate),
			UpdateExpression:          aws.String("ADD hits :one SET #ttl = :ttl"),
			ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":ttl": n(k.Until.Unix())},
		}
		if k.Max > 0 {
			u.ConditionExpression = aws.String("attribute_not_exists(hits) OR hits < :max")
			u.ExpressionAttributeValues[":max"] = n(int64(k.Max))
		}
		items = append(items, types.TransactWriteItem{Update: u})
	}
	puts, err := st.outboxPuts(out)
	if err != nil {
		return err
	}
	items = append(items, puts...)
	if c.Group != "" {
		// Listed in its group's inbox too (mail in never takes a conversation's group away).
		groupWrite, err := st.conversationGroupWrite(c)
		if err != nil {
			return err
		}
		items = append(items, groupWrite)
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	items = append(items, audit)
	// Each stored attachment's use by this message, last (the reasons above are read by
	// position), so that erasing a sender deletes a file no other message uses.
	items = append(items, st.attachmentUses(m, msg[attrTTL])...)
	err = st.transact(ctx, "save inbound message", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		switch {
		case reasonAt(cancelled, 0) == "ConditionalCheckFailed":
			return pg.ErrDuplicateMail
		case reasonAt(cancelled, 2) == "ConditionalCheckFailed":
			return fmt.Errorf("%w: conversation %s changed meanwhile", pg.ErrContended, c.Ref)
		default:
			for i := range counters {
				if reasonAt(cancelled, 3+i) == "ConditionalCheckFailed" {
					return fmt.Errorf("%w: a sender's count moved meanwhile", pg.ErrContended)
				}
			}
		}
	}
	return err
}

// conversationPut writes a conversation over version c.Version-1, or as new when
// c.Version is 1, listed in gsi1 by its status.
func (st *MailInStore) conversationPut(c pg.Conversation) (*types.Put, error) {
	conv, err := attributevalue.MarshalMap(conversationItem{
		Ref: c.Ref, Status: c.Status, Group: c.Group, Named: c.Named, Class: string(c.Class), Matched: c.Matched, From: c.From, FromName: c.FromName,
		Subject: c.Subject, Why: c.Why, Flood: c.Flood, Started: stamp(c.Started), Updated: stampMilli(c.Updated), Deadline: stampIfSet(c.Deadline),
		Messages: c.Messages, AckedOn: c.AckedOn, Notified: stampIfSet(c.Notified), Version: c.Version, LastMsgID: c.LastMsgID,
	})
	if err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	conv[attrPK], conv[attrSK] = s(conversationPK(c.Ref)), s(skConversation)
	conv[attrGSI1PK], conv[attrGSI1SK] = s(inboxPK(c.Status)), s(stampMilli(c.Updated)+"#"+c.Ref)
	convPut := &types.Put{TableName: aws.String(st.Table), Item: conv}
	if c.Version <= 1 {
		convPut.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		convPut.ConditionExpression = aws.String("version = :previous")
		convPut.ExpressionAttributeValues = map[string]types.AttributeValue{":previous": n(int64(c.Version - 1))}
	}
	return convPut, nil
}

// Conversation reads a conversation; a KindNotFound error when there is none.
func (st *MailInStore) Conversation(ctx context.Context, ref string) (pg.Conversation, error) {
	var it conversationItem
	if err := st.get(ctx, conversationPK(ref), skConversation, &it); err != nil {
		return pg.Conversation{}, err
	}
	return it.conversation(), nil
}

// conversation is the item as the domain's Conversation.
func (it conversationItem) conversation() pg.Conversation {
	return pg.Conversation{
		Ref: it.Ref, Status: it.Status, Group: it.Group, Named: it.Named, Class: pg.MailClass(it.Class), Matched: it.Matched, From: it.From, FromName: it.FromName,
		Subject: it.Subject, Why: it.Why, Flood: it.Flood, Started: parseStamp(it.Started), Updated: parseStampMilli(it.Updated), Deadline: parseStamp(it.Deadline),
		Messages: it.Messages, AckedOn: it.AckedOn, Notified: parseStamp(it.Notified), Version: it.Version, LastMsgID: it.LastMsgID,
	}
}

// MailCount reads a counter (strongly consistent); 0 when there is none.
func (st *MailInStore) MailCount(ctx context.Context, counter string) (int, error) {
	var it struct {
		Hits int `dynamodbav:"hits"`
	}
	err := st.get(ctx, rateLimitPK(counter), skRate, &it)
	if pg.KindOf(err) == pg.KindNotFound {
		return 0, nil
	}
	return it.Hits, err
}

// attachmentUses are the puts that record which stored attachments a message uses
// (FILE#<key> / <ses id>), kept as long as the message (ttl, nil for none).
func (st *MailInStore) attachmentUses(m pg.InboundMessage, ttl types.AttributeValue) []types.TransactWriteItem {
	var puts []types.TransactWriteItem
	seen := map[string]bool{}
	for _, a := range m.Attachments {
		if a.Key == "" || seen[a.Key] {
			continue
		}
		seen[a.Key] = true
		item := map[string]types.AttributeValue{attrPK: s(attachmentUsePK(a.Key)), attrSK: s(m.ID)}
		if ttl != nil {
			item[attrTTL] = ttl
		}
		puts = append(puts, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	}
	return puts
}
