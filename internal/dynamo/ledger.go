package dynamo

// The ledger of a round's emails (SEND#<nnnn>) and of its reminders (REMIND#<nnnn>):
// one row per recipient and email, claimed before sending and settled after.

import (
	"context"
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

type ledgerItem struct {
	Kind      string `dynamodbav:"kind"`
	Group     string `dynamodbav:"groupId"`
	Email     string `dynamodbav:"email"`
	Name      string `dynamodbav:"name"`
	State     string `dynamodbav:"state"`
	Run       string `dynamodbav:"run"`
	ClaimedAt string `dynamodbav:"claimedAt"`
	MessageID string `dynamodbav:"messageId"`
	Reason    string `dynamodbav:"reason"`
	SettledAt string `dynamodbav:"settledAt"`
	// What SES said became of the email (the feedback function's).
	Delivery       int    `dynamodbav:"delivery"`
	DeliveryDetail string `dynamodbav:"deliveryDetail"`
}

// row is the one conversion of a stored ledger item to the domain's row.
func (it ledgerItem) row() pg.LedgerRow {
	return pg.LedgerRow{
		LedgerID: pg.LedgerID{Kind: pg.LedgerKind(it.Kind), Group: it.Group, Email: it.Email},
		Name:     it.Name, State: pg.LedgerState(it.State), Run: it.Run, ClaimedAt: parseStamp(it.ClaimedAt),
		MessageID: it.MessageID, Reason: it.Reason,
		Delivery: pg.DeliveryState(it.Delivery), DeliveryDetail: it.DeliveryDetail,
	}
}

// LedgerRows reads the ledger rows of a batch, strongly consistent.
func (st *LedgerStore) LedgerRows(ctx context.Context, round int, ids []pg.LedgerID) (map[pg.LedgerID]pg.LedgerRow, error) {
	out := map[pg.LedgerID]pg.LedgerRow{}
	for start := 0; start < len(ids); start += 100 {
		var ks []map[string]types.AttributeValue
		for _, id := range ids[start:min(start+100, len(ids))] {
			ks = append(ks, key(ledgerPK(round), ledgerSK(id)))
		}
		request := map[string]types.KeysAndAttributes{st.Table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		for len(request) > 0 && len(request[st.Table].Keys) > 0 {
			res, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, unavailable(fmt.Errorf("read ledger: %w", err))
			}
			var items []ledgerItem
			if err := attributevalue.UnmarshalListOfMaps(res.Responses[st.Table], &items); err != nil {
				return nil, fmt.Errorf("decode ledger: %w", err)
			}
			for _, it := range items {
				row := it.row()
				out[row.LedgerID] = row
			}
			request = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Claim writes a round's announcement rows as sending, all or none; pg.ErrClaimed
// when any row was taken by another run first.
func (st *LedgerStore) Claim(ctx context.Context, round int, rows []pg.LedgerRow) error {
	return st.claim(ctx, ledgerPK(round), rows)
}

// ClaimReminder writes a reminder's row as sending, conditionally, as Claim does.
func (st *LedgerStore) ClaimReminder(ctx context.Context, round int, r pg.LedgerRow) error {
	return st.claim(ctx, reminderPK(round), []pg.LedgerRow{r})
}

// claim is the one claim of ledger rows (announcements and reminders): in one
// transaction, it writes each row as sending by its run, a new row on condition that
// it does not exist, a row claimed again (Prev set) on condition that it is still as
// the run that left it left it (Prev, PrevState: sending when not set).
func (st *Store) claim(ctx context.Context, pk string, rows []pg.LedgerRow) error {
	items := make([]types.TransactWriteItem, 0, len(rows))
	for _, r := range rows {
		expr, names, values := set(map[string]types.AttributeValue{
			"state": s(string(pg.LedgerSending)), "run": s(r.Run), "claimedAt": s(stamp(r.ClaimedAt)),
			"kind": s(string(r.Kind)), "groupId": s(r.Group), "email": s(r.Email), "name": s(r.Name),
		})
		condition := "attribute_not_exists(pk)"
		if r.Prev != "" {
			prevState := r.PrevState
			if prevState == "" {
				prevState = pg.LedgerSending
			}
			condition = "#state = :prevState AND #run = :prev"
			names["#state"], names["#run"] = "state", "run"
			values[":prevState"], values[":prev"] = s(string(prevState)), s(r.Prev)
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(pk, ledgerSK(r.LedgerID)),
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String(condition),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	err := st.transact(ctx, "claim ledger rows", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		for i := range items {
			if reasonAt(cancelled, i) == "ConditionalCheckFailed" {
				return pg.ErrClaimed
			}
		}
	}
	return err
}

// settleUpdate writes a row's final state, on condition that its run still holds it.
func (st *Store) settleUpdate(pk string, r pg.LedgerRow, at time.Time) *types.Update {
	attrs := map[string]types.AttributeValue{
		"state": s(string(r.State)), "messageId": s(r.MessageID), "reason": s(r.Reason), "settledAt": s(stamp(at)),
	}
	sentIndexKeys(attrs, r)
	if st.Retention.DeliveryEvents > 0 {
		// What happened to the email is kept DeliveryEvents (90 days), then deleted by TTL.
		attrs[attrTTL] = n(at.Add(st.Retention.DeliveryEvents).Unix())
	}
	expr, names, values := set(attrs)
	names["#state"], names["#run"] = "state", "run"
	values[":sending"], values[":run"] = s(string(pg.LedgerSending)), s(r.Run)
	return &types.Update{
		TableName: aws.String(st.Table), Key: key(pk, ledgerSK(r.LedgerID)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#state = :sending AND #run = :run"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		// Settle tells a row the feedback function settled from one another run holds.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// Settle writes the final states of rows this run holds and, in the same transaction,
// a progress item of their counts under its own key (id, unique to this settle), so
// that no two settles ever write the same item: four workers settling at once cannot
// cancel each other's transactions. id is also the transaction's idempotency token, so
// a settle retried after a lost answer does not count twice.
//
// SES's Send event for an email can reach the feedback function before its run
// settles it; the feedback function then marks that row sent (and counts it itself),
// and the run's transaction is cancelled on that row's condition. The run settles the
// rest again without it: a row that is no longer its own is not its to settle, and
// the run does not stop over it.
func (st *LedgerStore) Settle(ctx context.Context, round int, id string, rows []pg.LedgerRow, at time.Time) error {
	for attempt := 0; len(rows) > 0; attempt++ {
		token := id
		if attempt > 0 {
			token = fmt.Sprintf("%s-%d", id, attempt)
		}
		err := st.settle(ctx, round, token, rows, at)
		cancelled, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok || contended(cancelled) || attempt >= 3 {
			return err
		}
		var left []pg.LedgerRow
		for i, r := range rows {
			if reasonAt(cancelled, i) != "ConditionalCheckFailed" {
				left = append(left, r)
				continue
			}
			// The row as it was when the condition failed: sent while this run
			// still held it is the feedback function's settle; anything else (a
			// run that took it over after the lease) is not this run's to settle.
			if !settledByFeedback(cancelled.CancellationReasons[i].Item, r) {
				return err
			}
		}
		rows = left
	}
	return nil
}

func (st *LedgerStore) settle(ctx context.Context, round int, id string, rows []pg.LedgerRow, at time.Time) error {
	var items []types.TransactWriteItem
	counts := map[pg.LedgerState]int64{}
	for _, r := range rows {
		counts[r.State]++
		items = append(items, types.TransactWriteItem{Update: st.settleUpdate(ledgerPK(round), r, at)})
	}
	if settled := counts[pg.LedgerSent] + counts[pg.LedgerFailed] + counts[pg.LedgerSuppressed]; settled > 0 {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]types.AttributeValue{
				attrPK: s(progressPK(round)), attrSK: s(id), "at": s(stamp(at)),
				"sent": n(counts[pg.LedgerSent]), "failed": n(counts[pg.LedgerFailed]), "suppressed": n(counts[pg.LedgerSuppressed]),
				// A batch is one email to one group: the group's figures are summed from these.
				"kind": s(string(rows[0].Kind)), "groupId": s(rows[0].Group),
			},
		}})
	}
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(id)})
	if err == nil {
		return nil
	}
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && !contended(cancelled) {
		return fmt.Errorf("settle ledger rows: %w", err)
	}
	return unavailable(fmt.Errorf("settle ledger rows: %w", contendedOr(err)))
}

// SettleReminder writes a reminder's final state at a time, on condition that its run
// holds it.
func (st *LedgerStore) SettleReminder(ctx context.Context, round int, r pg.LedgerRow, at time.Time) error {
	u := st.settleUpdate(reminderPK(round), r, at)
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok && settledByFeedback(failed.Item, r) {
		return nil // SES's Send event came first, and the feedback function marked it sent
	}
	if err != nil {
		return unavailable(fmt.Errorf("settle reminder: %w", err))
	}
	return nil
}

// settledByFeedback reports whether a row whose settle failed its condition, as it was
// then (now), is one the feedback function marked sent while r's run still held it.
func settledByFeedback(now map[string]types.AttributeValue, r pg.LedgerRow) bool {
	run, _ := now["run"].(*types.AttributeValueMemberS)
	state, _ := now["state"].(*types.AttributeValueMemberS)
	return r.State == pg.LedgerSent && run != nil && state != nil && run.Value == r.Run && state.Value == string(pg.LedgerSent)
}

// Ledger returns every row of a round's announcement ledger (for tests and the admin's tally).
func (st *LedgerStore) Ledger(ctx context.Context, round int) ([]pg.LedgerRow, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, ledgerPK(round), "", &raw); err != nil {
		return nil, err
	}
	// TTL deletion is lazy: a row past its retention is gone already. (LedgerRows, which
	// the claims read, does not leave expired rows out: a claim is conditioned on the
	// row's absence, which only DynamoDB's deletion brings.)
	raw = slices.DeleteFunc(raw, func(it map[string]types.AttributeValue) bool { return expired(it, st.now()) })
	var items []ledgerItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode ledger: %w", err)
	}
	out := make([]pg.LedgerRow, len(items))
	for i, it := range items {
		out[i] = it.row()
	}
	return out, nil
}

// ReminderRow reads a reminder's ledger row; found is false when there is none.
func (st *LedgerStore) ReminderRow(ctx context.Context, round int, id pg.LedgerID) (pg.LedgerRow, bool, error) {
	var it ledgerItem
	err := st.get(ctx, reminderPK(round), ledgerSK(id), &it)
	if pg.KindOf(err) == pg.KindNotFound {
		return pg.LedgerRow{}, false, nil
	}
	if err != nil {
		return pg.LedgerRow{}, false, err
	}
	return it.row(), true, nil
}
