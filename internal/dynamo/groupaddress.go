package dynamo

// Group addresses: each address a group holds (its current one, and a former one for
// a while after a change) is an item of its own, MAILBOX#<local part> / MAILBOX, so
// that one GetItem routes a message and a conditional Put keeps each address one
// group's.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// mailboxItem is a group's claim on an address.
type mailboxItem struct {
	Group string `dynamodbav:"groupId"`
	Until string `dynamodbav:"until"` // "" for the group's current address
}

// mailboxPut claims local for group (until a time, for a former address), on
// condition that no other group holds it at now.
func (st *Store) mailboxPut(local, group string, until, now time.Time) types.TransactWriteItem {
	item := map[string]types.AttributeValue{attrPK: s(mailboxPK(local)), attrSK: s(skMailbox), "groupId": s(group), "until": s("")}
	if !until.IsZero() {
		item["until"], item[attrTTL] = s(stamp(until)), n(until.Unix())
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(st.Table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR groupId = :group OR (#until <> :none AND #until <= :now)"),
		ExpressionAttributeNames:  map[string]string{"#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":group": s(group), ":none": s(""), ":now": s(stamp(now))},
	}}
}

// mailboxFree checks that no other group holds local at now (a new group's ID is its
// address).
func (st *Store) mailboxFree(local, group string, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(st.Table), Key: key(mailboxPK(local), skMailbox),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR groupId = :group OR (#until <> :none AND #until <= :now)"),
		ExpressionAttributeNames:  map[string]string{"#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":group": s(group), ":none": s(""), ":now": s(stamp(now))},
	}}
}

// ChangeGroupMailbox changes a group's address (see pg.GroupAddressStore): one
// transaction of the group's update (on its version), the claim on the new address,
// the former address kept until until, and the audit entry.
func (st *NetworkStore) ChangeGroupMailbox(ctx context.Context, before, after pg.Group, now, until time.Time, a pg.AuditEntry) error {
	condition := "attribute_exists(pk) AND #version = :seen"
	if before.Version == 0 {
		condition = "attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :seen)"
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(pkGroups, groupSK(before.ID)),
			UpdateExpression:         aws.String("SET mailbox = :mailbox, #version = if_not_exists(#version, :zero) + :one"),
			ConditionExpression:      aws.String(condition),
			ExpressionAttributeNames: map[string]string{"#version": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":mailbox": s(after.Mailbox), ":zero": n(0), ":one": n(1), ":seen": n(int64(before.Version)),
			},
		}},
		st.mailboxPut(after.MailLocal(), after.ID, time.Time{}, now),
		audit,
	}
	if old := before.MailLocal(); old != after.MailLocal() {
		items = append(items, st.mailboxPut(old, before.ID, until, now))
	}
	err = st.transact(ctx, "change group address", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		switch {
		case reasonAt(cancelled, 0) == "ConditionalCheckFailed":
			return pg.ErrGroupChanged
		case reasonAt(cancelled, 1) == "ConditionalCheckFailed":
			return pg.Errorf(pg.KindConflict, "The address %s is another group's", after.MailLocal())
		}
	}
	return err
}

// GroupMailbox returns the claim on an address (one GetItem); a KindNotFound error when
// there is none, or it has lapsed.
func (st *NetworkStore) GroupMailbox(ctx context.Context, local string) (pg.GroupMailbox, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key(mailboxPK(local), skMailbox)})
	if err != nil {
		return pg.GroupMailbox{}, unavailable(fmt.Errorf("get the address %s: %w", local, err))
	}
	if len(out.Item) == 0 {
		return pg.GroupMailbox{}, errNotFound
	}
	var it mailboxItem
	group, _ := out.Item["groupId"].(*types.AttributeValueMemberS)
	until, _ := out.Item["until"].(*types.AttributeValueMemberS)
	if group != nil {
		it.Group = group.Value
	}
	if until != nil {
		it.Until = until.Value
	}
	m := pg.GroupMailbox{Local: local, Group: it.Group}
	if it.Until != "" {
		m.Until = parseStamp(it.Until)
	}
	return m, nil
}
