package dynamo

// Delivery figures: a count item per round, email and group (DELIVERY#<nnnn> /
// <kind>#<group>) that the feedback function moves in the same transaction as a
// ledger row's delivery state, so that the same event twice, or events out of order,
// count each email once at the state it ended in; the round's circuit breaker (its
// pause and the figures it was armed at, on the PUBLICATION item); and pages of a
// round's recipients for the admins.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// deliveryAttrs names each delivery state's count in a DELIVERY item.
var deliveryAttrs = map[pg.DeliveryState]string{
	pg.DeliverySent: "sent", pg.DeliveryDelayed: "delayed", pg.DeliveryDelivered: "delivered",
	pg.DeliveryBounced: "bounced", pg.DeliveryRejected: "rejected", pg.DeliveryComplained: "complained",
}

type deliveryItem struct {
	Kind       string `dynamodbav:"kind"`
	Group      string `dynamodbav:"groupId"`
	Sent       int    `dynamodbav:"sent"`
	Delayed    int    `dynamodbav:"delayed"`
	Delivered  int    `dynamodbav:"delivered"`
	Bounced    int    `dynamodbav:"bounced"`
	Rejected   int    `dynamodbav:"rejected"`
	Complained int    `dynamodbav:"complained"`
}

// countMoveAttempts bounds how often one event's move is tried again: when the row
// moved meanwhile (another event about it), or DynamoDB cancelled the transaction
// for another one writing the same count at that moment.
const countMoveAttempts = 8

// raiseCounted raises a ledger row's delivery state to state, if it exists and is
// below, and moves the row's email from its old state's count to the new one's, in
// one transaction conditioned on the state the row was read at (so that a count
// moves only with the row, once). sending says whether the event is a Send or a
// Delivery and the row is still "sending" (see raiseDelivery).
func (st *FeedbackStore) raiseCounted(ctx context.Context, k map[string]types.AttributeValue, round int, id pg.LedgerID, e pg.FeedbackEvent, state pg.DeliveryState, detail string) (moved, sending bool, err error) {
	took := e.Type == pg.FeedbackSend || e.Type == pg.FeedbackDelivery
	pause := 20 * time.Millisecond
	for range countMoveAttempts {
		out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(st.Table), Key: k, ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#state, delivery"), ExpressionAttributeNames: map[string]string{"#state": "state"},
		})
		if err != nil {
			return false, false, unavailable(fmt.Errorf("read ledger row: %w", err))
		}
		if out.Item == nil {
			return false, false, nil // no such row (a test copy, or expired)
		}
		current, _ := out.Item["state"].(*types.AttributeValueMemberS)
		sending = took && current != nil && current.Value == string(pg.LedgerSending)
		from := pg.DeliveryUnknown
		if v, ok := out.Item["delivery"].(*types.AttributeValueMemberN); ok {
			n, _ := strconv.Atoi(v.Value)
			from = pg.DeliveryState(n)
		}
		if from >= state {
			return false, sending, nil // the same event again, or one older than what is known
		}
		rowValues := map[string]types.AttributeValue{
			":n": n(int64(state)), ":word": s(state.String()), ":detail": s(detail), ":at": s(stamp(e.At)), ":message": s(e.MessageID),
		}
		cond := "attribute_exists(pk) AND attribute_not_exists(delivery)"
		countExpr := "ADD #to :one SET kind = :kind, groupId = :group"
		countNames := map[string]string{"#to": deliveryAttrs[state]}
		countValues := map[string]types.AttributeValue{":one": n(1), ":kind": s(string(id.Kind)), ":group": s(id.Group)}
		if from != pg.DeliveryUnknown {
			cond, rowValues[":from"] = "delivery = :from", n(int64(from))
			countExpr = "ADD #to :one, #from :less SET kind = :kind, groupId = :group"
			countNames["#from"], countValues[":less"] = deliveryAttrs[from], n(-1)
		}
		_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: aws.String(st.Table), Key: k,
				UpdateExpression:          aws.String("SET delivery = :n, deliveryState = :word, deliveryDetail = :detail, deliveryAt = :at, deliveryMessage = :message"),
				ConditionExpression:       aws.String(cond),
				ExpressionAttributeValues: rowValues,
			}},
			{Update: &types.Update{
				TableName: aws.String(st.Table), Key: key(deliveryPK(round), string(id.Kind)+"#"+id.Group),
				UpdateExpression:          aws.String(countExpr),
				ExpressionAttributeNames:  countNames,
				ExpressionAttributeValues: countValues,
			}},
		}})
		if err == nil {
			return true, sending, nil
		}
		cancelled, ok := errors.AsType[*types.TransactionCanceledException](err)
		_, inProgress := errors.AsType[*types.TransactionInProgressException](err)
		switch {
		case ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed":
			// The row moved meanwhile (another event about it, or this one's earlier
			// attempt whose answer was lost): read it again.
		case ok && contended(cancelled), inProgress:
			// Another event's transaction was writing the same count: wait a little.
			if err := pg.Sleep(ctx, pause/2+rand.N(pause/2+1)); err != nil {
				return false, false, err
			}
			pause = min(2*pause, time.Second)
		default:
			return false, false, unavailable(fmt.Errorf("record delivery: %w", err))
		}
	}
	return false, false, unavailable(fmt.Errorf("record delivery: %w", pg.ErrContended))
}

// RoundDelivery reads a round's delivery counts by email and group (one Query).
func (st *RoundStore) RoundDelivery(ctx context.Context, round int) (pg.RoundDelivery, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, deliveryPK(round), "", &raw); err != nil {
		return nil, err
	}
	var items []deliveryItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode delivery counts of round %d: %w", round, err)
	}
	out := make(pg.RoundDelivery, 0, len(items))
	for _, it := range items {
		out = append(out, pg.GroupDelivery{Kind: pg.LedgerKind(it.Kind), Group: it.Group, Counts: pg.DeliveryCounts{
			Sent: it.Sent, Delayed: it.Delayed, Delivered: it.Delivered, Bounced: it.Bounced, Rejected: it.Rejected, Complained: it.Complained,
		}})
	}
	return out, nil
}

// breakerItem is what the PUBLICATION item keeps of the round's circuit breaker.
type breakerItem struct {
	PausedAt     string `dynamodbav:"pausedAt"`
	PauseReason  string `dynamodbav:"pauseReason"`
	Pauses       int    `dynamodbav:"pauses"`
	ArmedSent    int    `dynamodbav:"armedSent"`
	ArmedBounced int    `dynamodbav:"armedBounced"`
}

func (it breakerItem) state() pg.BreakerState {
	return pg.BreakerState{
		Paused: it.PausedAt != "", Pause: pg.Pause{At: parseStamp(it.PausedAt), Reason: it.PauseReason},
		Pauses: it.Pauses, ArmedSent: it.ArmedSent, ArmedBounced: it.ArmedBounced,
	}
}

// BreakerReading reads a round's breaker (GetItem of its PUBLICATION) and its
// delivery counts (Query DELIVERY#<nnnn>).
func (st *RoundStore) BreakerReading(ctx context.Context, round int) (pg.BreakerState, pg.DeliveryCounts, error) {
	var it breakerItem
	if err := st.get(ctx, roundPK(round), skPublication, &it); err != nil {
		return pg.BreakerState{}, pg.DeliveryCounts{}, err
	}
	d, err := st.RoundDelivery(ctx, round)
	if err != nil {
		return pg.BreakerState{}, pg.DeliveryCounts{}, err
	}
	return it.state(), d.Round(), nil
}

// PauseRound records a round's pause with the admins' emails and the audit entry in
// one transaction, on condition that the round is still sending, not paused, and has
// paused prev.Pauses times (see pg.BreakerStore).
func (st *RoundStore) PauseRound(ctx context.Context, round int, prev pg.BreakerState, p pg.Pause, mails []pg.OutboxItem, a pg.AuditEntry) (bool, error) {
	audit, err := st.auditPut(a)
	if err != nil {
		return false, err
	}
	puts, err := st.outboxPuts(mails)
	if err != nil {
		return false, err
	}
	values := map[string]types.AttributeValue{
		":at": s(stamp(p.At)), ":why": s(p.Reason), ":next": n(int64(prev.Pauses + 1)), ":no": &types.AttributeValueMemberBOOL{Value: false},
	}
	cond := "attribute_exists(pk) AND done = :no AND attribute_not_exists(pausedAt) AND attribute_not_exists(pauses)"
	if prev.Pauses > 0 {
		cond, values[":prev"] = "attribute_exists(pk) AND done = :no AND attribute_not_exists(pausedAt) AND pauses = :prev", n(int64(prev.Pauses))
	}
	items := append([]types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET pausedAt = :at, pauseReason = :why, pauses = :next"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	}}, audit}, puts...)
	err = st.transact(ctx, "pause round", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return false, nil // paused already, or finished
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// ResumePaused lifts a round's pause, arms its breaker at armed, and inserts a
// PUBLICATION#RESUME item whose arrival on the stream runs the announce function again
// (the same ledger), with the audit entry, in one transaction.
func (st *RoundStore) ResumePaused(ctx context.Context, round int, at time.Time, armed pg.DeliveryCounts, a pg.AuditEntry) error {
	return st.resume(ctx, round, at, &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:    aws.String("SET resumedAt = :at, armedSent = :sent, armedBounced = :bounced REMOVE pausedAt, pauseReason"),
		ConditionExpression: aws.String("attribute_exists(pausedAt) AND done = :no"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": s(stamp(at)), ":no": &types.AttributeValueMemberBOOL{Value: false},
			":sent": n(int64(armed.Total())), ":bounced": n(int64(armed.Bounced)),
		},
	}, fmt.Sprintf("Sending round %d is not paused: it has been resumed already, or has finished.", round), a)
}

// LedgerPage reads up to limit rows of a round's ledger after the row after (see
// pg.DeliveryStore): one Query, from the row's key. Rows past their retention are
// left out.
func (st *RoundStore) LedgerPage(ctx context.Context, round int, after pg.LedgerID, limit int) ([]pg.LedgerRow, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(ledgerPK(round))},
		Limit:                     aws.Int32(int32(limit)),
	}
	if after.Email != "" {
		in.ExclusiveStartKey = key(ledgerPK(round), ledgerSK(after))
	}
	out, err := st.db.Query(ctx, in)
	if err != nil {
		return nil, false, unavailable(fmt.Errorf("query ledger of round %d: %w", round, err))
	}
	raw := slices.DeleteFunc(out.Items, func(it map[string]types.AttributeValue) bool { return expired(it, st.now()) })
	var items []ledgerItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, false, fmt.Errorf("decode ledger: %w", err)
	}
	rows := make([]pg.LedgerRow, len(items))
	for i, it := range items {
		rows[i] = it.row()
	}
	return rows, len(out.LastEvaluatedKey) > 0, nil
}
