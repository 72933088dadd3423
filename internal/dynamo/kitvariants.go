package dynamo

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

// The groups' variants of the rounds' kits (pg.KitVariantStore): a variant's head and
// revisions are kept as the core kit's are (kits.go), under the group's ID as the kit's
// name; its lineage is one item of the round's KITS# partition; a merge in progress is
// one item beside its head.

// kitLineageItem is a variant's lineage.
type kitLineageItem struct {
	Kit          string `dynamodbav:"kit"`
	Parent       string `dynamodbav:"parent"`
	BaseHash     string `dynamodbav:"baseHash"`
	BaseNumber   int    `dynamodbav:"baseNumber"`
	CopiedHash   string `dynamodbav:"copiedHash"`
	CopiedNumber int    `dynamodbav:"copiedNumber"`
	CopiedBy     string `dynamodbav:"copiedBy"`
	CopiedAt     string `dynamodbav:"copiedAt"`
}

func (it kitLineageItem) lineage(round int) pg.KitLineage {
	return pg.KitLineage{Round: round, Kit: it.Kit, Parent: it.Parent, BaseHash: it.BaseHash, BaseNumber: it.BaseNumber,
		CopiedHash: it.CopiedHash, CopiedNumber: it.CopiedNumber, CopiedBy: it.CopiedBy, CopiedAt: parseStamp(it.CopiedAt)}
}

// kitVariantRevisionItem is a revision of a variant; a merge revision names the
// revision of the parent it brought in.
type kitVariantRevisionItem struct {
	kitRevisionItem
	MergedKit    string `dynamodbav:"mergedKit,omitempty"`
	MergedNumber int    `dynamodbav:"mergedNumber,omitempty"`
	MergedHash   string `dynamodbav:"mergedHash,omitempty"`
}

// kitMergeItem is a merge in progress.
type kitMergeItem struct {
	Ours      string               `dynamodbav:"ours"`
	Theirs    string               `dynamodbav:"theirs"`
	StartedBy string               `dynamodbav:"startedBy"`
	StartedAt string               `dynamodbav:"startedAt"`
	Answers   []kitMergeAnswerItem `dynamodbav:"answers"`
}

type kitMergeAnswerItem struct {
	Key    string `dynamodbav:"key"`
	Choice string `dynamodbav:"choice"`
	Own    string `dynamodbav:"own"`
	Texts  string `dynamodbav:"texts"`
}

// maxKitMergeBytes keeps a merge in progress under DynamoDB's 400 KB item limit.
const maxKitMergeBytes = 350_000

// KitLineage reads a variant's lineage; a KindNotFound error when there is none.
func (st *KitStore) KitLineage(ctx context.Context, round int, kit string) (pg.KitLineage, error) {
	var it kitLineageItem
	if err := st.get(ctx, kitsPK(round), kitLineageSK(kit), &it); err != nil {
		return pg.KitLineage{}, err
	}
	return it.lineage(round), nil
}

// KitLineages reads the lineages of a round's variants.
func (st *KitStore) KitLineages(ctx context.Context, round int) ([]pg.KitLineage, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, kitsPK(round), prefixKitLineage, &raw); err != nil {
		return nil, err
	}
	var items []kitLineageItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode kit lineages of round %d: %w", round, err)
	}
	out := make([]pg.KitLineage, len(items))
	for i, it := range items {
		out[i] = it.lineage(round)
	}
	return out, nil
}

// revisionPuts returns the puts of a revision's head (conditioned on the head it was
// saved over, or on there being none) and of its REV# item.
func (st *KitStore) revisionPuts(round int, kit string, it kitVariantRevisionItem) ([]types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode kit revision: %w", err)
	}
	pk := kitPK(round, kit)
	head, revision := map[string]types.AttributeValue{}, map[string]types.AttributeValue{}
	for k, v := range item {
		head[k], revision[k] = v, v
	}
	head[attrPK], head[attrSK] = s(pk), s(skKitHead)
	revision[attrPK], revision[attrSK] = s(pk), s(kitRevisionSK(it.Number))
	headPut := &types.Put{TableName: aws.String(st.Table), Item: head}
	if it.Number <= 1 {
		headPut.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		headPut.ConditionExpression = aws.String("#number = :number AND #hash = :parent")
		headPut.ExpressionAttributeNames = map[string]string{"#number": "number", "#hash": "hash"}
		headPut.ExpressionAttributeValues = map[string]types.AttributeValue{":number": n(int64(it.Number - 1)), ":parent": s(it.Parent)}
	}
	return []types.TransactWriteItem{
		{Put: headPut},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: revision, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}, nil
}

func revisionItemOf(rev pg.KitRevision) kitRevisionItem {
	return kitRevisionItem{Number: rev.Number, Hash: rev.Hash, Parent: rev.Parent, Author: rev.Author, At: stamp(rev.At), Note: rev.Note}
}

// kitMoved turns a transaction cancelled by one of its first conditions into
// pg.ErrKitMoved.
func kitMoved(err error, conditions int) error {
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		for i := range conditions {
			if reasonAt(cancelled, i) == "ConditionalCheckFailed" {
				return pg.ErrKitMoved
			}
		}
	}
	return err
}

// CreateKitVariant records a variant's first revision, head and lineage in one
// transaction; pg.ErrKitMoved when the group has a variant already.
func (st *KitStore) CreateKitVariant(ctx context.Context, round int, rev pg.KitRevision, l pg.KitLineage, a pg.AuditEntry) error {
	items, err := st.revisionPuts(round, l.Kit, kitVariantRevisionItem{kitRevisionItem: revisionItemOf(rev)})
	if err != nil {
		return err
	}
	lineage, err := attributevalue.MarshalMap(kitLineageItem{Kit: l.Kit, Parent: l.Parent, BaseHash: l.BaseHash, BaseNumber: l.BaseNumber,
		CopiedHash: l.CopiedHash, CopiedNumber: l.CopiedNumber, CopiedBy: l.CopiedBy, CopiedAt: stamp(l.CopiedAt)})
	if err != nil {
		return fmt.Errorf("encode kit lineage: %w", err)
	}
	lineage[attrPK], lineage[attrSK] = s(kitsPK(round)), s(kitLineageSK(l.Kit))
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	items = append(items,
		types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: lineage, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		audit)
	// Listed under who made it (authored.go): its first revision, and its lineage.
	items = append(items, st.authoredPut(rev.Author, kitRevisionAuthored(round, l.Kit, rev.Number), rev.At)...)
	items = append(items, st.authoredPut(l.CopiedBy, authored{PK: kitsPK(round), SK: kitLineageSK(l.Kit), Field: "copiedBy", What: pg.AuthoredKitCopy, Round: round, Kit: l.Kit}, l.CopiedAt)...)
	return kitMoved(st.transact(ctx, "create kit variant", items, 0), 3)
}

// SaveKitMerge records a merge revision, moves the variant's head to it and its
// lineage's base to the revision merged, and deletes the merge in progress, in one
// transaction; pg.ErrKitMoved when the head or the base has moved.
func (st *KitStore) SaveKitMerge(ctx context.Context, round int, kit string, rev pg.KitRevision, merged pg.KitRevisionRef, oldBase string, a pg.AuditEntry) error {
	items, err := st.revisionPuts(round, kit, kitVariantRevisionItem{kitRevisionItem: revisionItemOf(rev), MergedKit: merged.Kit, MergedNumber: merged.Number, MergedHash: merged.Hash})
	if err != nil {
		return err
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	items = append(items,
		types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(st.Table),
			Key:                       key(kitsPK(round), kitLineageSK(kit)),
			UpdateExpression:          aws.String("SET #hash = :hash, #number = :number"),
			ConditionExpression:       aws.String("#hash = :old"),
			ExpressionAttributeNames:  map[string]string{"#hash": "baseHash", "#number": "baseNumber"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":hash": s(merged.Hash), ":number": n(int64(merged.Number)), ":old": s(oldBase)},
		}},
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(kitPK(round, kit), skKitMerge)}},
		audit)
	items = append(items, st.authoredPut(rev.Author, kitRevisionAuthored(round, kit, rev.Number), rev.At)...)
	return kitMoved(st.transact(ctx, "save kit merge", items, 0), 3)
}

// KitVariantRevisions returns a variant's revisions, newest first.
func (st *KitStore) KitVariantRevisions(ctx context.Context, round int, kit string) ([]pg.KitVariantRevision, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, kitPK(round, kit), prefixKitRevision, &raw); err != nil {
		return nil, err
	}
	var items []kitVariantRevisionItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode kit revisions: %w", err)
	}
	out := make([]pg.KitVariantRevision, len(items))
	for i, it := range items {
		out[i] = pg.KitVariantRevision{KitRevision: kitRevisionOf(it.kitRevisionItem)}
		if it.MergedHash != "" {
			out[i].Merged = &pg.KitRevisionRef{Kit: it.MergedKit, Number: it.MergedNumber, Hash: it.MergedHash}
		}
	}
	slices.Reverse(out)
	return out, nil
}

// KitMerge reads a variant's merge in progress; a KindNotFound error when none.
func (st *KitStore) KitMerge(ctx context.Context, round int, kit string) (pg.KitMerge, error) {
	var it kitMergeItem
	if err := st.get(ctx, kitPK(round, kit), skKitMerge, &it); err != nil {
		return pg.KitMerge{}, err
	}
	m := pg.KitMerge{Ours: it.Ours, Theirs: it.Theirs, StartedBy: it.StartedBy, StartedAt: parseStamp(it.StartedAt)}
	for _, a := range it.Answers {
		m.Answers = append(m.Answers, pg.KitMergeAnswer{Key: a.Key, Choice: a.Choice, Own: a.Own, Texts: a.Texts})
	}
	return m, nil
}

// SaveKitMergeProgress keeps a variant's merge in progress, replacing what was kept,
// listed under who started it (authored.go) in the same transaction.
func (st *KitStore) SaveKitMergeProgress(ctx context.Context, round int, kit string, m pg.KitMerge) error {
	it := kitMergeItem{Ours: m.Ours, Theirs: m.Theirs, StartedBy: m.StartedBy, StartedAt: stamp(m.StartedAt), Answers: []kitMergeAnswerItem{}}
	size := 0
	for _, a := range m.Answers {
		it.Answers = append(it.Answers, kitMergeAnswerItem{Key: a.Key, Choice: a.Choice, Own: a.Own, Texts: a.Texts})
		size += len(a.Key) + len(a.Own) + len(a.Texts) + 64
	}
	if size > maxKitMergeBytes {
		return pg.Errorf(pg.KindInvalid, "Your own texts are too long to keep all at once. Shorten them, or finish the merge in fewer visits.")
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode kit merge: %w", err)
	}
	item[attrPK], item[attrSK] = s(kitPK(round, kit)), s(skKitMerge)
	by := st.authoredPut(m.StartedBy, authored{PK: kitPK(round, kit), SK: skKitMerge, Field: "startedBy", What: pg.AuthoredKitMerge, Round: round, Kit: kit}, m.StartedAt)
	if len(by) == 0 {
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: item}); err != nil {
			return unavailable(fmt.Errorf("put kit merge %d %s: %w", round, kit, err))
		}
		return nil
	}
	return st.transact(ctx, fmt.Sprintf("put kit merge %d %s", round, kit), append([]types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(st.Table), Item: item}}}, by...), 0)
}

// DeleteKitMerge forgets a variant's merge in progress (none is fine).
func (st *KitStore) DeleteKitMerge(ctx context.Context, round int, kit string) error {
	if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: key(kitPK(round, kit), skKitMerge)}); err != nil {
		return unavailable(fmt.Errorf("delete kit merge %d %s: %w", round, kit, err))
	}
	return nil
}
