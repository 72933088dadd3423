package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitRevisionItem is a kit's head (sk HEAD) or one of its revisions (sk REV#<n>): the
// head repeats its revision's facts, so that a page reads one item.
type kitRevisionItem struct {
	Number int    `dynamodbav:"number"`
	Hash   string `dynamodbav:"hash"`
	Parent string `dynamodbav:"parent"`
	Author string `dynamodbav:"author"`
	At     string `dynamodbav:"at"`
	Note   string `dynamodbav:"note"`
}

func kitRevisionOf(it kitRevisionItem) pg.KitRevision {
	return pg.KitRevision{Number: it.Number, Hash: it.Hash, Parent: it.Parent, Author: it.Author, At: parseStamp(it.At), Note: it.Note}
}

// KitHead reads a kit's head; a KindNotFound error when the kit has none.
func (st *KitStore) KitHead(ctx context.Context, round int, kit string) (pg.KitHead, error) {
	var it kitRevisionItem
	if err := st.get(ctx, kitPK(round, kit), skKitHead, &it); err != nil {
		return pg.KitHead{}, err
	}
	return pg.KitHead{Round: round, Kit: kit, Revision: kitRevisionOf(it)}, nil
}

// SaveKitRevision records a revision and moves the kit's head to it, in one transaction
// conditioned on the head being the revision it was saved over (rev.Number-1,
// rev.Parent; no head at all for the first). pg.ErrKitMoved when it is not.
func (st *KitStore) SaveKitRevision(ctx context.Context, round int, kit string, rev pg.KitRevision, a pg.AuditEntry) error {
	item, err := attributevalue.MarshalMap(kitRevisionItem{Number: rev.Number, Hash: rev.Hash, Parent: rev.Parent, Author: rev.Author, At: stamp(rev.At), Note: rev.Note})
	if err != nil {
		return fmt.Errorf("encode kit revision: %w", err)
	}
	pk := kitPK(round, kit)
	head, revision := map[string]types.AttributeValue{}, map[string]types.AttributeValue{}
	for k, v := range item {
		head[k], revision[k] = v, v
	}
	head[attrPK], head[attrSK] = s(pk), s(skKitHead)
	revision[attrPK], revision[attrSK] = s(pk), s(kitRevisionSK(rev.Number))
	headPut := &types.Put{TableName: aws.String(st.Table), Item: head}
	if rev.Number <= 1 {
		headPut.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		headPut.ConditionExpression = aws.String("#number = :number AND #hash = :parent")
		headPut.ExpressionAttributeNames = map[string]string{"#number": "number", "#hash": "hash"}
		headPut.ExpressionAttributeValues = map[string]types.AttributeValue{":number": n(int64(rev.Number - 1)), ":parent": s(rev.Parent)}
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "save kit revision", append([]types.TransactWriteItem{
		{Put: headPut},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: revision, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		audit,
	}, st.authoredPut(rev.Author, kitRevisionAuthored(round, kit, rev.Number), rev.At)...), 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && (reasonAt(cancelled, 0) == "ConditionalCheckFailed" || reasonAt(cancelled, 1) == "ConditionalCheckFailed") {
		return pg.ErrKitMoved
	}
	return err
}

// KitRevisions returns a kit's revisions, newest first.
func (st *KitStore) KitRevisions(ctx context.Context, round int, kit string) ([]pg.KitRevision, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, kitPK(round, kit), prefixKitRevision, &raw); err != nil {
		return nil, err
	}
	var items []kitRevisionItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode kit revisions: %w", err)
	}
	out := make([]pg.KitRevision, len(items))
	for i, it := range items {
		out[i] = kitRevisionOf(it)
	}
	slices.Reverse(out)
	return out, nil
}
