package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// councilItem is a council as stored, in the COUNCILS partition (the picker's list).
type councilItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Code   string `dynamodbav:"code"`
	Name   string `dynamodbav:"name"`
	Nation string `dynamodbav:"nation"`
	Region string `dynamodbav:"region"`
}

type (
	pendingRegistrationItem struct {
		Email     string `dynamodbav:"email"`
		Council   string `dynamodbav:"council"`
		Name      string `dynamodbav:"name"`
		Role      string `dynamodbav:"role"`
		NonceHash string `dynamodbav:"nonceHash"`
		ExpiresAt string `dynamodbav:"expiresAt"`
	}
	registerEntryItem struct {
		Code        string `dynamodbav:"code"`
		Name        string `dynamodbav:"name"`
		Region      string `dynamodbav:"region"`
		SignedUpAt  string `dynamodbav:"signedUpAt"`
		Status      string `dynamodbav:"status"`
		ListedAt    string `dynamodbav:"listedAt"`
		WithdrawnAt string `dynamodbav:"withdrawnAt"`
		Reason      string `dynamodbav:"reason"`
	}
	registerContactItem struct {
		Email string `dynamodbav:"email"`
		Name  string `dynamodbav:"name"`
		Role  string `dynamodbav:"role"`
		At    string `dynamodbav:"at"`
	}
)

// SavePendingRegistration stores a council sign-up waiting for confirmation.
func (st *RegisterStore) SavePendingRegistration(ctx context.Context, p pg.PendingRegistration, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	item, err := attributevalue.MarshalMap(pendingRegistrationItem{Email: p.Email, Council: p.Council, Name: p.Name, Role: p.Role, NonceHash: p.NonceHash, ExpiresAt: stamp(p.ExpiresAt)})
	if err != nil {
		return fmt.Errorf("encode council sign-up: %w", err)
	}
	item[attrPK], item[attrSK], item[attrTTL] = s(personPK(p.Email)), s(registeringSK(p.Council)), n(p.ExpiresAt.Add(pg.SignupRetention).Unix())
	items := append(rateUpdates(st.Table, limits), types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	if items, err = st.withOutbox(items, out); err != nil {
		return err
	}
	return st.transact(ctx, "save council sign-up", items, len(limits))
}

// PendingRegistration reads a pending council sign-up.
func (st *RegisterStore) PendingRegistration(ctx context.Context, email, council string) (pg.PendingRegistration, error) {
	var it pendingRegistrationItem
	if err := st.get(ctx, personPK(email), registeringSK(council), &it); err != nil {
		return pg.PendingRegistration{}, err
	}
	return pg.PendingRegistration{Email: it.Email, Council: it.Council, Name: it.Name, Role: it.Role, NonceHash: it.NonceHash, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// ConfirmRegistration adds the contact and, for a council not signed up yet, a
// pending entry, deleting the pending sign-up on condition that its nonce is
// unchanged. An existing entry keeps its status, its reason and its sign-up date:
// a contact's confirmation never lists a council nor undoes an admin's decision.
func (st *RegisterStore) ConfirmRegistration(ctx context.Context, p pg.PendingRegistration, c pg.Council, at time.Time) error {
	update := "SET #code = :code, #name = :name, #region = :region, #status = if_not_exists(#status, :pending), signedUpAt = if_not_exists(signedUpAt, :at)"
	names := map[string]string{"#code": "code", "#name": "name", "#region": "region", "#status": "status"}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(st.Table), Key: key(personPK(p.Email), registeringSK(p.Council)),
			ConditionExpression:       aws.String("nonceHash = :h"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(p.NonceHash)},
		}},
		{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(pkRegister, councilSK(c.Code)),
			UpdateExpression:         aws.String(update),
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":code": s(c.Code), ":name": s(c.Name), ":region": s(c.Region), ":pending": s(pg.RegisterPending), ":at": s(stamp(at)),
			},
		}},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(registerContactsPK(c.Code)), attrSK: s(contactSK(p.Email)),
			"email": s(p.Email), "name": s(p.Name), "role": s(p.Role), "at": s(stamp(at)),
		}}},
	}
	err := st.transact(ctx, "confirm council sign-up", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.ErrLinkUsed
	}
	return err
}

// legacyActive is the status entries had when a confirmation listed a council at
// once. No admin approved them, so they wait for one like any new sign-up.
const legacyActive = "active"

func entryOf(it registerEntryItem) pg.RegisterEntry {
	status := it.Status
	if status == legacyActive {
		status = pg.RegisterPending
	}
	return pg.RegisterEntry{Code: it.Code, Name: it.Name, Region: it.Region, SignedUpAt: parseStamp(it.SignedUpAt),
		Status: status, ListedAt: parseStamp(it.ListedAt), WithdrawnAt: parseStamp(it.WithdrawnAt), Reason: it.Reason}
}

// Register returns every entry of the register.
func (st *RegisterStore) Register(ctx context.Context) ([]pg.RegisterEntry, error) {
	var items []registerEntryItem
	if err := st.queryAll(ctx, pkRegister, &items); err != nil {
		return nil, err
	}
	out := make([]pg.RegisterEntry, len(items))
	for i, it := range items {
		out[i] = entryOf(it)
	}
	return out, nil
}

// RegisterEntry returns one entry and its contacts.
func (st *RegisterStore) RegisterEntry(ctx context.Context, code string) (pg.RegisterEntry, []pg.RegisterContact, error) {
	var it registerEntryItem
	if err := st.get(ctx, pkRegister, councilSK(code), &it); err != nil {
		return pg.RegisterEntry{}, nil, err
	}
	var items []registerContactItem
	if err := st.queryAll(ctx, registerContactsPK(code), &items); err != nil {
		return pg.RegisterEntry{}, nil, err
	}
	contacts := make([]pg.RegisterContact, len(items))
	for i, c := range items {
		contacts[i] = pg.RegisterContact{Email: c.Email, Name: c.Name, Role: c.Role, At: parseStamp(c.At)}
	}
	return entryOf(it), contacts, nil
}

// DecideRegistration writes an admin's decision on an entry (listed: with when,
// and no reason; declined or withdrawn: with when and why) and its audit entry, all
// or nothing, on condition that the entry's status is still from.
func (st *RegisterStore) DecideRegistration(ctx context.Context, e pg.RegisterEntry, from string, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	update := "SET #status = :status, withdrawnAt = :at, #reason = :reason"
	values := map[string]types.AttributeValue{":status": s(e.Status), ":at": s(stamp(e.WithdrawnAt)), ":reason": s(e.Reason), ":from": s(from)}
	if e.Status == pg.RegisterListed {
		update = "SET #status = :status, listedAt = :at REMOVE withdrawnAt, #reason"
		values = map[string]types.AttributeValue{":status": s(e.Status), ":at": s(stamp(e.ListedAt)), ":from": s(from)}
	}
	condition := "#status = :from"
	if from == pg.RegisterPending {
		condition = "#status IN (:from, :legacy)"
		values[":legacy"] = s(legacyActive)
	}
	err = st.transact(ctx, "decide council", []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(pkRegister, councilSK(e.Code)),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#reason": "reason"},
		ExpressionAttributeValues: values,
	}}, audit}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "Someone else has changed %s’s entry meanwhile. Look at it again.", e.Name)
	}
	return err
}

// PutCouncils writes the councils in batches of 25.
func (st *RegisterStore) PutCouncils(ctx context.Context, councils []pg.Council) error {
	for start := 0; start < len(councils); start += 25 {
		var reqs []types.WriteRequest
		for _, c := range councils[start:min(start+25, len(councils))] {
			item, err := attributevalue.MarshalMap(councilItem{PK: pkCouncil, SK: councilSK(c.Code), Code: c.Code, Name: c.Name, Nation: c.Nation, Region: c.Region})
			if err != nil {
				return fmt.Errorf("encode council %s: %w", c.Code, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for len(reqs) > 0 {
			out, err := st.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Table: reqs}})
			if err != nil {
				return unavailable(fmt.Errorf("put councils: %w", err))
			}
			reqs = out.UnprocessedItems[st.Table]
		}
	}
	return nil
}
