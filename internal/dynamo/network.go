package dynamo

// The network: its groups (created, edited, paused), the facilitators of each and
// the admins (roles).

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// groupItem is a group as stored, in the GROUPS partition.
type groupItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	ID          string   `dynamodbav:"id"`
	Name        string   `dynamodbav:"name"`
	Description string   `dynamodbav:"description"`
	Regions     []string `dynamodbav:"regions"`
	Contact     string   `dynamodbav:"contact,omitempty"`
	Paused      bool     `dynamodbav:"paused"`
	Version     int      `dynamodbav:"version"` // absent (0) on groups written before versions
	// Mailbox is its address's local part, when not its ID.
	Mailbox string `dynamodbav:"mailbox,omitempty"`
}

func (st *Store) groupPut(g pg.Group, condition string) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused, Version: g.Version})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String(condition)}}, nil
}

// CreateGroupAudited adds a group with its audit entry; a KindConflict error if the ID is taken.
func (st *NetworkStore) CreateGroupAudited(ctx context.Context, g pg.Group, a pg.AuditEntry) error {
	put, err := st.groupPut(g, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	// Its ID is its address: not one another group holds (see groupaddress.go).
	err = st.transact(ctx, "create group", []types.TransactWriteItem{put, audit, st.mailboxFree(g.ID, g.ID, a.At)}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "There is already a group with the short name %s", g.ID)
	}
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 2) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "Another group’s email address is %s: choose another short name", g.ID)
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
func (st *NetworkStore) UpdateGroup(ctx context.Context, g pg.Group, fields []string, a pg.AuditEntry) error {
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
func (st *NetworkStore) SetGroupPaused(ctx context.Context, id string, paused bool, a pg.AuditEntry) error {
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

// SetRole grants or takes away a role, with its audit entry.
func (st *NetworkStore) SetRole(ctx context.Context, email, role, group string, grant bool, a pg.AuditEntry) error {
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
func (st *NetworkStore) RoleHolders(ctx context.Context, role, group string) ([]string, error) {
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
	p := dynamodb.NewQueryPaginator(st.db.Query, in)
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

// Groups returns every group, ordered by name.
func (st *NetworkStore) Groups(ctx context.Context) ([]pg.Group, error) {
	var groups []pg.Group
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pkGroups)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query groups: %w", err))
		}
		var items []groupItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode groups: %w", err)
		}
		for _, it := range items {
			groups = append(groups, it.group())
		}
	}
	slices.SortFunc(groups, func(a, b pg.Group) int { return cmpString(a.Name, b.Name) })
	return groups, nil
}

func (it groupItem) group() pg.Group {
	return pg.Group{ID: it.ID, Name: it.Name, Description: it.Description, Regions: it.Regions, Contact: it.Contact, Paused: it.Paused, Version: it.Version, Mailbox: it.Mailbox}
}

// Group reads one group with a strongly consistent GetItem.
func (st *NetworkStore) Group(ctx context.Context, id string) (pg.Group, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key(pkGroups, groupSK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return pg.Group{}, unavailable(fmt.Errorf("get group %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return pg.Group{}, pg.Errorf(pg.KindNotFound, "There is no group called %s.", id)
	}
	var it groupItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return pg.Group{}, fmt.Errorf("decode group %s: %w", id, err)
	}
	return it.group(), nil
}

// PutGroup creates or replaces a group.
func (st *NetworkStore) PutGroup(ctx context.Context, g pg.Group) error {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused})
	if err != nil {
		return fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: item}); err != nil {
		return unavailable(fmt.Errorf("put group %s: %w", g.ID, err))
	}
	return nil
}

// CreateGroup adds a group; it returns a KindConflict error if one with its ID exists.
func (st *NetworkStore) CreateGroup(ctx context.Context, g pg.Group) error {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused})
	if err != nil {
		return fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return pg.Errorf(pg.KindConflict, "There is already a group called %s", g.ID)
	}
	if err != nil {
		return unavailable(fmt.Errorf("create group %s: %w", g.ID, err))
	}
	return nil
}
