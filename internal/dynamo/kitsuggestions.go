package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The groups' suggestions to a round's core kit (pg.KitSuggestionStore): one item each
// in the core kit's partition, written with its audit entry; its outcome is written
// on it, once, conditioned on its being still open.

// kitSuggestionItem is a suggestion with its outcome.
type kitSuggestionItem struct {
	ID            string `dynamodbav:"id"`
	Group         string `dynamodbav:"group"`
	SectionID     string `dynamodbav:"sectionId"`
	Kind          string `dynamodbav:"kind"`
	Audience      string `dynamodbav:"audience"`
	Title         string `dynamodbav:"title"`
	Body          string `dynamodbav:"body"`
	CoreNumber    int    `dynamodbav:"coreNumber"`
	CoreHash      string `dynamodbav:"coreHash"`
	VariantNumber int    `dynamodbav:"variantNumber"`
	VariantHash   string `dynamodbav:"variantHash"`
	By            string `dynamodbav:"by"`
	At            string `dynamodbav:"at"`
	Status        string `dynamodbav:"status"`
	DecidedBy     string `dynamodbav:"decidedBy,omitempty"`
	DecidedAt     string `dynamodbav:"decidedAt,omitempty"`
	Reason        string `dynamodbav:"reason,omitempty"`
	Accepted      int    `dynamodbav:"accepted,omitempty"`
}

func (it kitSuggestionItem) suggestion(round int) pg.KitSuggestion {
	s := pg.KitSuggestion{Round: round, ID: it.ID, Group: it.Group,
		Section: pg.KitSection{ID: it.SectionID, Kind: it.Kind, Audience: it.Audience, Title: it.Title, Body: it.Body},
		Core:    pg.KitRevisionRef{Kit: pg.CoreKit, Number: it.CoreNumber, Hash: it.CoreHash},
		Variant: pg.KitRevisionRef{Kit: it.Group, Number: it.VariantNumber, Hash: it.VariantHash},
		By:      it.By, At: parseStamp(it.At), Status: it.Status, DecidedBy: it.DecidedBy, Reason: it.Reason, Accepted: it.Accepted}
	if it.DecidedAt != "" {
		s.DecidedAt = parseStamp(it.DecidedAt)
	}
	return s
}

// PutKitSuggestion records a new suggestion and its audit entry in one transaction.
func (st *KitStore) PutKitSuggestion(ctx context.Context, sg pg.KitSuggestion, a pg.AuditEntry) error {
	item, err := attributevalue.MarshalMap(kitSuggestionItem{ID: sg.ID, Group: sg.Group,
		SectionID: sg.Section.ID, Kind: sg.Section.Kind, Audience: sg.Section.Audience, Title: sg.Section.Title, Body: sg.Section.Body,
		CoreNumber: sg.Core.Number, CoreHash: sg.Core.Hash, VariantNumber: sg.Variant.Number, VariantHash: sg.Variant.Hash,
		By: sg.By, At: stamp(sg.At), Status: sg.Status})
	if err != nil {
		return fmt.Errorf("encode kit suggestion: %w", err)
	}
	item[attrPK], item[attrSK] = s(kitPK(sg.Round, pg.CoreKit)), s(kitSuggestionSK(sg.ID))
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	return st.transact(ctx, "put kit suggestion", append([]types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		audit,
	}, st.authoredPut(sg.By, suggestionAuthored(sg, "by", pg.AuthoredSuggestion), sg.At)...), 0)
}

// KitSuggestions returns a round's suggestions, oldest first.
func (st *KitStore) KitSuggestions(ctx context.Context, round int) ([]pg.KitSuggestion, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, kitPK(round, pg.CoreKit), prefixKitSuggestion, &raw); err != nil {
		return nil, err
	}
	var items []kitSuggestionItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode kit suggestions of round %d: %w", round, err)
	}
	out := make([]pg.KitSuggestion, len(items))
	for i, it := range items {
		out[i] = it.suggestion(round)
	}
	return out, nil
}

// KitSuggestion returns one suggestion; a KindNotFound error when there is none.
func (st *KitStore) KitSuggestion(ctx context.Context, round int, id string) (pg.KitSuggestion, error) {
	var it kitSuggestionItem
	if err := st.get(ctx, kitPK(round, pg.CoreKit), kitSuggestionSK(id), &it); err != nil {
		return pg.KitSuggestion{}, err
	}
	return it.suggestion(round), nil
}

// DecideKitSuggestion writes a suggestion's outcome and its audit entry in one
// transaction, if it is still open; pg.ErrSuggestionDecided if not.
func (st *KitStore) DecideKitSuggestion(ctx context.Context, sg pg.KitSuggestion, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "decide kit suggestion", append([]types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                aws.String(st.Table),
			Key:                      key(kitPK(sg.Round, pg.CoreKit), kitSuggestionSK(sg.ID)),
			UpdateExpression:         aws.String("SET #status = :status, decidedBy = :by, decidedAt = :at, reason = :reason, accepted = :accepted"),
			ConditionExpression:      aws.String("#status = :open"),
			ExpressionAttributeNames: map[string]string{"#status": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":status": s(sg.Status), ":by": s(sg.DecidedBy), ":at": s(stamp(sg.DecidedAt)), ":reason": s(sg.Reason),
				":accepted": n(int64(sg.Accepted)), ":open": s(pg.SuggestionOpen),
			},
		}},
		audit,
	}, st.authoredPut(sg.DecidedBy, suggestionAuthored(sg, "decidedBy", pg.AuthoredDecision), sg.DecidedAt)...), 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.ErrSuggestionDecided
	}
	return err
}

// suggestionAuthored is the index entry of who made or answered a suggestion
// (authored.go), under its group.
func suggestionAuthored(sg pg.KitSuggestion, field, what string) authored {
	return authored{PK: kitPK(sg.Round, pg.CoreKit), SK: kitSuggestionSK(sg.ID), Field: field, What: what, Round: sg.Round, Kit: sg.Group}
}
