package dynamo

// The audit trail: an entry is written in the transaction of the change it records,
// into the audit table, and never changed.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type auditItem struct {
	SK     string `dynamodbav:"sk"`
	At     string `dynamodbav:"at"`
	Actor  string `dynamodbav:"actor"`
	Action string `dynamodbav:"action"`
	Target string `dynamodbav:"target"`
	Before string `dynamodbav:"before,omitempty"`
	After  string `dynamodbav:"after,omitempty"`
}

// auditPut returns the write of an audit entry, for the transaction of its change: a
// Put into the audit table (a transaction may span two tables) that never replaces an
// entry. The transaction (transact) adds the pointers that list the entry under each
// person it names (audit_pointers.go).
func (st *Store) auditPut(a pg.AuditEntry) (types.TransactWriteItem, error) {
	a = pg.PseudonymousEntry(a, st.PersonPseudonym)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	item, err := attributevalue.MarshalMap(auditItem{
		SK: auditSK(a.At, hex.EncodeToString(suffix)),
		At: stamp(a.At), Actor: a.Actor, Action: a.Action, Target: a.Target, Before: a.Before, After: a.After,
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode audit entry: %w", err)
	}
	item[attrPK] = s(pkAudit)
	if st.Retention.Audit > 0 {
		item[attrTTL] = n(a.At.Add(st.Retention.Audit).Unix())
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(AuditTableName(st.Table)), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// Audit returns up to limit entries, newest first, older than the cursor before
// ("" for the newest), and the cursor of the next page ("" when there is none). Entries
// are in the audit table; those written before it existed are still in the table's
// AUDIT partition, all older than any in the audit table, so they follow them.
func (st *NetworkStore) Audit(ctx context.Context, limit int, before string) ([]pg.AuditEntry, string, error) {
	items, more, err := st.auditPage(ctx, AuditTableName(st.Table), limit, before)
	if err != nil {
		return nil, "", err
	}
	if !more && len(items) < limit {
		older, olderMore, err := st.auditPage(ctx, st.Table, limit-len(items), before)
		if err != nil {
			return nil, "", err
		}
		items, more = append(items, older...), olderMore
	}
	if len(items) == limit {
		more = true // the next page says whether there is anything older
	}
	entries := make([]pg.AuditEntry, len(items))
	for i, it := range items {
		entries[i] = pg.AuditEntry{At: parseStamp(it.At), Actor: it.Actor, Action: it.Action, Target: it.Target, Before: it.Before, After: it.After}
	}
	next := ""
	if more && len(items) > 0 {
		next = items[len(items)-1].SK
	}
	return entries, next, nil
}

// auditPage queries one table's AUDIT partition, newest first, and says whether it has
// more.
func (st *Store) auditPage(ctx context.Context, table string, limit int, before string) ([]auditItem, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pkAudit)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	if before != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND sk < :before")
		in.ExpressionAttributeValues[":before"] = s(before)
	}
	out, err := st.db.Query(ctx, in)
	if err != nil {
		return nil, false, unavailable(fmt.Errorf("query audit trail in %s: %w", table, err))
	}
	var items []auditItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, false, fmt.Errorf("decode audit trail: %w", err)
	}
	if st.Retention.Audit > 0 {
		// TTL deletion is lazy: an entry past its retention is gone already. Entries
		// come newest first, so none after the first expired one is kept either.
		oldest := st.now().Add(-st.Retention.Audit)
		for i, it := range items {
			if !parseStamp(it.At).After(oldest) {
				return items[:i], false, nil
			}
		}
	}
	return items, out.LastEvaluatedKey != nil, nil
}
