package dynamo

// Mail in: a one-off backfill for conversations stored before a group's conversations
// had their copy in the group's gsi1 partition (GROUPINBOX#<group>#<status>, which a
// facilitator's inbox reads) and before messages were listed by sender (SENDER#<from>,
// which a person's export and erasure read). It reads the conversations from their
// status lists in gsi1 and each one's messages from its partition (Queries, no Scan),
// and writes only what is missing, each write conditioned on its absence: run again,
// it changes nothing, and it never undoes a change made meanwhile.

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// InboxBackfill says what BackfillInbox did.
type InboxBackfill struct {
	Conversations int  // conversations read
	GroupCopies   int  // copies written in their group's inbox
	Messages      int  // messages listed by their sender
	More          bool // it stopped at its limit: run it again with a higher one
}

// inboxStatuses are every status a conversation is listed under in gsi1.
var inboxStatuses = []string{pg.ConversationNew, pg.ConversationWaiting, pg.ConversationDone, pg.ConversationSpam, pg.ConversationIgnored, pg.ConversationQuarantined}

// BackfillInbox writes the group-inbox copies and the sender index entries that
// conversations stored before them lack, reading at most limit conversations.
func (st *MailInStore) BackfillInbox(ctx context.Context, limit int) (InboxBackfill, error) {
	var r InboxBackfill
	for _, status := range inboxStatuses {
		p := dynamodb.NewQueryPaginator(st.db.Query, st.inboxQuery(inboxPK(status)))
		for pages := 0; p.HasMorePages(); pages++ {
			if r.Conversations >= limit || pages >= limit {
				r.More = true
				return r, nil
			}
			page, err := p.NextPage(ctx)
			if err != nil {
				return r, unavailable(fmt.Errorf("query the %s inbox: %w", status, err))
			}
			for _, item := range page.Items {
				if r.Conversations >= limit {
					r.More = true
					return r, nil
				}
				r.Conversations++
				if err := st.backfillConversation(ctx, item, &r); err != nil {
					return r, err
				}
			}
		}
	}
	return r, nil
}

// backfillConversation writes a conversation's group copy if it has a group and no
// copy, and lists its messages by sender where they are not.
func (st *MailInStore) backfillConversation(ctx context.Context, item map[string]types.AttributeValue, r *InboxBackfill) error {
	var it conversationItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return fmt.Errorf("decode a conversation: %w", err)
	}
	if it.Group != "" {
		// The conversation as read, listed in its group's inbox: written only when there
		// is no copy (a change meanwhile writes its own copy with it).
		cp := maps.Clone(item)
		cp[attrSK], cp[attrGSI1PK] = s(skConversationGroup), s(groupInboxPK(it.Group, it.Status))
		_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: cp, ConditionExpression: aws.String("attribute_not_exists(pk)")})
		switch _, exists := errors.AsType[*types.ConditionalCheckFailedException](err); {
		case exists:
		case err != nil:
			return unavailable(fmt.Errorf("copy conversation %s to its group's inbox: %w", it.Ref, err))
		default:
			r.GroupCopies++
		}
	}
	var msgs []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, conversationPK(it.Ref), "MSG#", &msgs); err != nil {
		return err
	}
	for _, m := range msgs {
		var msg inboxMessageItem
		if err := attributevalue.UnmarshalMap(m, &msg); err != nil {
			return fmt.Errorf("decode a message of %s: %w", it.Ref, err)
		}
		if _, listed := m[attrGSI1PK]; listed || msg.By != "" || msg.From == "" || expired(m, st.now()) {
			continue // listed already, one of our replies, or no sender to list it under
		}
		sk, _ := m[attrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			continue
		}
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: key(conversationPK(it.Ref), sk.Value),
			UpdateExpression:    aws.String("SET gsi1pk = :pk, gsi1sk = :sk"),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(gsi1pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": s(senderPK(msg.From)), ":sk": s(sk.Value),
			},
		})
		switch _, done := errors.AsType[*types.ConditionalCheckFailedException](err); {
		case done:
		case err != nil:
			return unavailable(fmt.Errorf("list a message of %s by its sender: %w", it.Ref, err))
		default:
			r.Messages++
		}
	}
	return nil
}
