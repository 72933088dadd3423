package dynamo

// Feedback: SES's events applied to the ledger rows, and the suppression list.

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

// RecordDelivery raises a ledger row's delivery state (see pg.FeedbackStore).
func (st *FeedbackStore) RecordDelivery(ctx context.Context, round int, id pg.LedgerID, e pg.FeedbackEvent, state pg.DeliveryState, detail string) (bool, error) {
	k := key(ledgerPK(round), ledgerSK(id))
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.Table),
		Key:                 k,
		UpdateExpression:    aws.String("SET delivery = :n, deliveryState = :word, deliveryDetail = :detail, deliveryAt = :at, deliveryMessage = :message"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(delivery) OR delivery < :n)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": n(int64(state)), ":word": s(state.String()), ":detail": s(detail), ":at": s(stamp(e.At)), ":message": s(e.MessageID),
		},
	})
	moved := true
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		moved, err = false, nil
	}
	if err != nil {
		return false, unavailable(fmt.Errorf("record delivery: %w", err))
	}
	if e.Type == pg.FeedbackSend || e.Type == pg.FeedbackDelivery {
		// SES took it: a row a stopped run left "sending" is sent, not to be sent again.
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(st.Table),
			Key:                       k,
			UpdateExpression:          aws.String("SET #state = :sent, messageId = :message, settledAt = :at, gsi1pk = :sentpk, gsi1sk = :sentsk"),
			ConditionExpression:       aws.String("#state = :sending"),
			ExpressionAttributeNames:  map[string]string{"#state": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":sent": s(string(pg.LedgerSent)), ":sending": s(string(pg.LedgerSending)), ":message": s(e.MessageID), ":at": s(stamp(e.At)), ":sentpk": s(sentMailPK(e.MessageID)), ":sentsk": s(skSentMail)},
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok && err != nil {
			return moved, unavailable(fmt.Errorf("settle a row SES took: %w", err))
		}
	}
	return moved, nil
}

// SuppressAddress suppresses an address with its evidence and the audit entry.
func (st *FeedbackStore) SuppressAddress(ctx context.Context, email, reason string, at time.Time, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	return st.transact(ctx, "suppress address", []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(pkSuppressed), attrSK: s(email), "reason": s(reason), "at": s(stamp(at)),
		}}},
		audit,
	}, 0)
}
