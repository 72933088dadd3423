package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

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

type memberItem struct {
	Email        string `dynamodbav:"email"`
	Name         string `dynamodbav:"name"`
	CouncilCode  string `dynamodbav:"councilCode"`
	Organisation string `dynamodbav:"organisation"`
	JobTitle     string `dynamodbav:"jobTitle"`
	Status       string `dynamodbav:"status"`
	JoinedAt     string `dynamodbav:"joinedAt"`
	LeftAt       string `dynamodbav:"leftAt"`
	ExpiresAt    string `dynamodbav:"expiresAt"`
}

// auditPut returns the write of an audit entry, for the transaction of its change: a
// Put into the audit table (a transaction may span two tables) that never replaces an
// entry.
func (st *Store) auditPut(a pg.AuditEntry) (types.TransactWriteItem, error) {
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
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(AuditTableName(st.Table)), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

func (st *Store) groupPut(g pg.Group, condition string) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused, Version: g.Version})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String(condition)}}, nil
}

// CreateGroupAudited adds a group with its audit entry; a KindConflict error if the ID is taken.
func (st *Store) CreateGroupAudited(ctx context.Context, g pg.Group, a pg.AuditEntry) error {
	put, err := st.groupPut(g, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "create group", []types.TransactWriteItem{put, audit}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "There is already a group with the short name %s", g.ID)
	}
	return err
}

// groupFields maps the fields an edit names to the group item's attributes.
var groupFields = map[string]func(pg.Group) (types.AttributeValue, error){
	pg.FieldName:        func(g pg.Group) (types.AttributeValue, error) { return s(g.Name), nil },
	pg.FieldDescription: func(g pg.Group) (types.AttributeValue, error) { return s(g.Description), nil },
	pg.FieldContact:     func(g pg.Group) (types.AttributeValue, error) { return s(g.Contact), nil },
	pg.FieldRegions:     func(g pg.Group) (types.AttributeValue, error) { return attributevalue.Marshal(g.Regions) },
}

// UpdateGroup sets only the named fields of a group, and counts a new version, with
// its audit entry, on condition that the group is still at g.Version (a group written
// before versions has none, which counts as 0). Nothing else of the item is written,
// so a change made meanwhile to another attribute (a pause) cannot be undone by it.
func (st *Store) UpdateGroup(ctx context.Context, g pg.Group, fields []string, a pg.AuditEntry) error {
	attrs := map[string]types.AttributeValue{}
	for _, f := range fields {
		value, ok := groupFields[f]
		if !ok {
			return fmt.Errorf("update group %s: no field %q", g.ID, f)
		}
		v, err := value(g)
		if err != nil {
			return fmt.Errorf("encode group %s %s: %w", g.ID, f, err)
		}
		attrs[f] = v
	}
	condition := "attribute_exists(pk) AND #version = :seen"
	if g.Version == 0 {
		condition = "attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :seen)"
	}
	return st.updateGroup(ctx, g.ID, attrs, condition, map[string]types.AttributeValue{":seen": n(int64(g.Version))}, a)
}

// SetGroupPaused sets only whether a group is paused, and counts a new version, with
// its audit entry.
func (st *Store) SetGroupPaused(ctx context.Context, id string, paused bool, a pg.AuditEntry) error {
	return st.updateGroup(ctx, id, map[string]types.AttributeValue{"paused": &types.AttributeValueMemberBOOL{Value: paused}}, "attribute_exists(pk)", nil, a)
}

// updateGroup sets attrs of a group and adds one to its version, on a condition, in a
// transaction with an audit entry. A failed condition is reported as not found when the
// group does not exist, else as pg.ErrGroupChanged.
func (st *Store) updateGroup(ctx context.Context, id string, attrs map[string]types.AttributeValue, condition string, values map[string]types.AttributeValue, a pg.AuditEntry) error {
	expr, names, vals := set(attrs)
	expr += ", #version = if_not_exists(#version, :zero) + :one"
	names["#version"] = "version"
	vals[":zero"], vals[":one"] = n(0), n(1)
	for k, v := range values {
		vals[k] = v
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	update := types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(pkGroups, groupSK(id)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(condition),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
	err = st.transact(ctx, "update group", []types.TransactWriteItem{update, audit}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		if len(cancelled.CancellationReasons[0].Item) == 0 {
			return pg.Errorf(pg.KindNotFound, "There is no group called %s.", id)
		}
		return pg.ErrGroupChanged
	}
	return err
}

// GroupMembers lists a group's members with a status, from gsi1.
func (st *Store) GroupMembers(ctx context.Context, group string, status pg.Status) ([]pg.MemberRow, error) {
	var rows []pg.MemberRow
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
		TableName:              aws.String(st.Table),
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status))),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		for _, item := range page.Items {
			row, err := memberRow(group, item)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// maxPageQueries bounds the Queries one page of members may take (pending members
// that have expired are skipped, so a page may need more than one).
const maxPageQueries = 50

// GroupMembersPage returns up to limit members of a group with a status, in the order
// of their addresses, after the address from ("" for the start), or with backward set
// the limit before it (returned in ascending order), and whether there are more beyond
// them. It reads limit+1 rows of gsi1 to know whether more follow. The cursor key is
// rebuilt here from the group, the status and the address, so a page can only ever
// start inside that group's list.
func (st *Store) GroupMembersPage(ctx context.Context, group string, status pg.Status, from string, backward bool, limit int, now time.Time) ([]pg.MemberRow, bool, error) {
	var start map[string]types.AttributeValue
	if from != "" {
		sk := membershipSK(group)
		if status == pg.StatusPending {
			sk = pendingSK(group)
		}
		start = key(personPK(from), sk)
		start[attrGSI1PK], start[attrGSI1SK] = s(groupMembersPK(group)), s(groupMemberSK(string(status), from))
	}
	var rows []pg.MemberRow
	for range maxPageQueries {
		out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(st.Table),
			IndexName:              aws.String(indexGSI1),
			KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status))),
			},
			ExclusiveStartKey: start,
			ScanIndexForward:  aws.Bool(!backward),
			Limit:             aws.Int32(int32(limit + 1 - len(rows))),
		})
		if err != nil {
			return nil, false, unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		for _, item := range out.Items {
			row, err := memberRow(group, item)
			if err != nil {
				return nil, false, err
			}
			// TTL deletion is lazy: leave out pending members that have expired.
			if status == pg.StatusPending && !now.Before(row.ExpiresAt) {
				continue
			}
			rows = append(rows, row)
		}
		start = out.LastEvaluatedKey
		if len(rows) > limit || start == nil {
			break
		}
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	if backward {
		slices.Reverse(rows)
	}
	return rows, more, nil
}

func memberRow(group string, item map[string]types.AttributeValue) (pg.MemberRow, error) {
	var it memberItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return pg.MemberRow{}, fmt.Errorf("decode member of %s: %w", group, err)
	}
	if it.Email == "" {
		if pk, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
			it.Email = emailOfPersonPK(pk.Value)
		}
	}
	return pg.MemberRow{
		Email: it.Email, Name: it.Name, CouncilCode: it.CouncilCode, Organisation: it.Organisation, JobTitle: it.JobTitle,
		Status: pg.Status(it.Status), JoinedAt: parseStamp(it.JoinedAt), LeftAt: parseStamp(it.LeftAt), ExpiresAt: parseStamp(it.ExpiresAt),
	}, nil
}

// SetRole grants or takes away a role, with its audit entry.
func (st *Store) SetRole(ctx context.Context, email, role, group string, grant bool, a pg.AuditEntry) error {
	var change types.TransactWriteItem
	if grant {
		ipk, isk := roleIndexKeys(role, group, email)
		item := map[string]types.AttributeValue{
			attrPK: s(personPK(email)), attrSK: s(roleSK(role, group)), attrGSI1PK: s(ipk), attrGSI1SK: s(isk),
			"email": s(email), "role": s(role), "at": s(stamp(a.At)), "by": s(a.Actor),
		}
		if group != "" {
			item["groupId"] = s(group)
		}
		change.Put = &types.Put{TableName: aws.String(st.Table), Item: item}
	} else {
		change.Delete = &types.Delete{TableName: aws.String(st.Table), Key: key(personPK(email), roleSK(role, group))}
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	return st.transact(ctx, "set role", []types.TransactWriteItem{change, audit}, 0)
}

// RoleHolders lists the addresses holding a role (for a group, when group is set).
func (st *Store) RoleHolders(ctx context.Context, role, group string) ([]string, error) {
	ipk, isk := roleIndexKeys(role, group, "")
	var emails []string
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(ipk)},
	}
	if isk != "" {
		in.KeyConditionExpression = aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = s(isk)
	}
	p := dynamodb.NewQueryPaginator(st.DB, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query %s role: %w", role, err))
		}
		for _, item := range page.Items {
			if e, ok := item["email"].(*types.AttributeValueMemberS); ok {
				emails = append(emails, e.Value)
			}
		}
	}
	return emails, nil
}

// Audit returns up to limit entries, newest first, older than the cursor before
// ("" for the newest), and the cursor of the next page ("" when there is none). Entries
// are in the audit table; those written before it existed are still in the table's
// AUDIT partition, all older than any in the audit table, so they follow them.
func (st *Store) Audit(ctx context.Context, limit int, before string) ([]pg.AuditEntry, string, error) {
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
	out, err := st.DB.Query(ctx, in)
	if err != nil {
		return nil, false, unavailable(fmt.Errorf("query audit trail in %s: %w", table, err))
	}
	var items []auditItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, false, fmt.Errorf("decode audit trail: %w", err)
	}
	return items, out.LastEvaluatedKey != nil, nil
}
