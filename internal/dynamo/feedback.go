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

	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// RecordDelivery raises a ledger row's delivery state (see pg.FeedbackStore).
func (st *FeedbackStore) RecordDelivery(ctx context.Context, round int, id pg.LedgerID, e pg.FeedbackEvent, state pg.DeliveryState, detail string) (bool, error) {
	k := key(ledgerPK(round), ledgerSK(id))
	if id.Kind == pg.LedgerReminder {
		k = key(reminderPK(round), ledgerSK(id)) // the reminders' own ledger
	}
	moved, sending, err := st.raiseCounted(ctx, k, round, id, e, state, detail)
	if err != nil || !sending {
		return moved, err
	}
	// SES took it: a row a stopped run left "sending" is sent, not to be sent again.
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table),
		Key:       k,
		// Listed under the SES message ID too, as the run's settle does, so that a reply
		// to it finds its round and group (mail in).
		UpdateExpression:         aws.String("SET #state = :sent, messageId = :message, settledAt = :at, reason = :reason, gsi1pk = :sentpk, gsi1sk = :sentsk"),
		ConditionExpression:      aws.String("#state = :sending"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sent": s(string(pg.LedgerSent)), ":sending": s(string(pg.LedgerSending)), ":message": s(e.MessageID), ":at": s(stamp(e.At)), ":reason": s("settled by SES's " + e.Type + " event"),
			":sentpk": s(sentMailPK(e.MessageID)), ":sentsk": s(skSentMail)},
	}}}
	if id.Kind != pg.LedgerReminder {
		// The round's progress counts it, as the settle the run never made would have.
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]types.AttributeValue{
				attrPK: s(progressPK(round)), attrSK: s("feedback-" + e.MessageID), "at": s(stamp(e.At)),
				"sent": n(1), "failed": n(0), "suppressed": n(0), "kind": s(string(id.Kind)), "groupId": s(id.Group),
			},
		}})
	}
	err = st.transact(ctx, "settle a row SES took", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && !contended(cancelled) {
		return moved, nil // settled meanwhile: by its run, or by this event before
	}
	return moved, err
}

// RecordOutboxDelivery raises an outbox item's delivery state (see pg.FeedbackStore):
// the same as a ledger row's, and a Send or Delivery event for an item a stopped run
// left "sending" settles it as sent (its sealed email dropped), so that the stream's
// next delivery does not send it again.
func (st *FeedbackStore) RecordOutboxDelivery(ctx context.Context, id string, e pg.FeedbackEvent, state pg.DeliveryState, detail string) (bool, error) {
	k := key(outboxPK(id), OutboxSK)
	moved, sending, err := st.raiseDelivery(ctx, k, e, state, detail, outbox.StateSending)
	if err != nil || !sending {
		return moved, err
	}
	update := "SET #state = :sent, settledAt = :at, reason = :reason"
	values := map[string]types.AttributeValue{":sent": s(outbox.StateSent), ":sending": s(outbox.StateSending), ":at": s(stampMilli(e.At)), ":reason": s("settled by SES's " + e.Type + " event")}
	if e.MessageID != "" {
		// Listed under its SES message ID, as the run's settle does (mail in).
		update += ", messageId = :message, gsi1pk = :sentpk, gsi1sk = :sentsk"
		values[":message"], values[":sentpk"], values[":sentsk"] = s(e.MessageID), s(sentMailPK(e.MessageID)), s(skSentMail)
	}
	_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       k,
		UpdateExpression:          aws.String(update + " REMOVE sealed"),
		ConditionExpression:       aws.String("#state = :sending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: values,
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok && err != nil {
		return moved, unavailable(fmt.Errorf("settle an outbox item SES took: %w", err))
	}
	return moved, nil
}

// raiseDelivery raises the delivery state of the item at k to state, if it exists
// and is below (moved), with one conditional UpdateItem. sending says whether the
// event is a Send or a Delivery and the item is still in the state sendingState: a
// run stopped before recording what SES took, which the caller settles then (so
// that the common case, an item already settled, costs one write).
func (st *FeedbackStore) raiseDelivery(ctx context.Context, k map[string]types.AttributeValue, e pg.FeedbackEvent, state pg.DeliveryState, detail, sendingState string) (moved, sending bool, err error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.Table),
		Key:                 k,
		UpdateExpression:    aws.String("SET delivery = :n, deliveryState = :word, deliveryDetail = :detail, deliveryAt = :at, deliveryMessage = :message"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(delivery) OR delivery < :n)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": n(int64(state)), ":word": s(state.String()), ":detail": s(detail), ":at": s(stamp(e.At)), ":message": s(e.MessageID),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	item := map[string]types.AttributeValue(nil)
	moved = true
	if failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		moved, err, item = false, nil, failed.Item
	} else if err == nil {
		item = out.Attributes
	}
	if err != nil {
		return false, false, unavailable(fmt.Errorf("record delivery: %w", err))
	}
	current, _ := item["state"].(*types.AttributeValueMemberS)
	took := e.Type == pg.FeedbackSend || e.Type == pg.FeedbackDelivery
	return moved, took && current != nil && current.Value == sendingState, nil
}

// CountTransientBounce adds the event's message to the person's run of transient
// bounces (a set: the same event twice counts once) and returns the run's length.
func (st *FeedbackStore) CountTransientBounce(ctx context.Context, email string, e pg.FeedbackEvent) (int, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(st.Table),
		Key:              key(personPK(email), skDelivery),
		UpdateExpression: aws.String("ADD bounces :id SET lastBounceAt = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberSS{Value: []string{e.MessageID}}, ":at": s(stamp(e.At)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return 0, unavailable(fmt.Errorf("count a transient bounce: %w", err))
	}
	set, _ := out.Attributes["bounces"].(*types.AttributeValueMemberSS)
	if set == nil {
		return 0, nil
	}
	return len(set.Value), nil
}

// ResetTransientBounces ends a run of transient bounces that all came before at (a
// delivery older than the last bounce, arriving late, ends nothing).
func (st *FeedbackStore) ResetTransientBounces(ctx context.Context, email string, at time.Time) error {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       key(personPK(email), skDelivery),
		UpdateExpression:          aws.String("REMOVE bounces, lastBounceAt"),
		ConditionExpression:       aws.String("attribute_exists(bounces) AND lastBounceAt <= :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": s(stamp(at))},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil
	}
	if err != nil {
		return unavailable(fmt.Errorf("reset transient bounces: %w", err))
	}
	return nil
}

// SuppressAddress suppresses an address with its evidence and the audit entry, and
// for a complaint ends the memberships named, with the reason, in one transaction. It
// writes nothing when the address is suppressed already (for a complaint: by a
// complaint), so that the same event twice leaves one audit entry.
func (st *FeedbackStore) SuppressAddress(ctx context.Context, sup pg.Suppression, a pg.AuditEntry) (bool, error) {
	audit, err := st.auditPut(a)
	if err != nil {
		return false, err
	}
	cause := "bounce"
	if sup.Complaint {
		cause = "complaint"
	}
	cond := "attribute_not_exists(pk)"
	values := map[string]types.AttributeValue{}
	if sup.Complaint {
		cond, values[":complaint"] = "attribute_not_exists(pk) OR cause <> :complaint", s("complaint")
	}
	put := &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(pkSuppressed), attrSK: s(sup.Email), "reason": s(sup.Reason), "cause": s(cause), "at": s(stamp(sup.At)),
	}, ConditionExpression: aws.String(cond)}
	if len(values) > 0 {
		put.ExpressionAttributeValues = values
	}
	items := []types.TransactWriteItem{
		{Put: put},
		{Update: &types.Update{
			TableName:                 aws.String(st.Table),
			Key:                       key(personPK(sup.Email), skDelivery),
			UpdateExpression:          aws.String("SET suppressed = :reason, suppressedAt = :at"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":reason": s(sup.Reason), ":at": s(stamp(sup.At))},
		}},
		audit,
	}
	for _, g := range sup.Leave {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                aws.String(st.Table),
			Key:                      key(personPK(sup.Email), membershipSK(g)),
			UpdateExpression:         aws.String("SET #status = :s, leftAt = if_not_exists(leftAt, :at), gsi1sk = :gsk, leftReason = :why"),
			ConditionExpression:      aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames: map[string]string{"#status": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": s(string(pg.StatusLeft)), ":at": s(stamp(sup.At)), ":gsk": s(groupMemberSK(string(pg.StatusLeft), sup.Email)),
				":why": s("complaint: " + sup.Reason),
			},
		}})
	}
	for _, region := range sup.Withdraw {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(personPK(sup.Email), interestSK(region))}})
	}
	err = st.transact(ctx, "suppress address", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}
