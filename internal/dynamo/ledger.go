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
}

// CountMembers counts a group's members with a status, without reading them.
func (st *Store) CountMembers(ctx context.Context, group string, status pg.Status) (int, error) {
	total := 0
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status)))},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, unavailable(fmt.Errorf("count members of %s: %w", group, err))
		}
		total += int(page.Count)
	}
	return total, nil
}

// MemberPages calls fn with each page of a group's members with a status, so that
// memory does not grow with the group.
func (st *Store) MemberPages(ctx context.Context, group string, status pg.Status, fn func([]pg.MemberRow) error) error {
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status)))},
		ProjectionExpression:      aws.String("email, #name"),
		ExpressionAttributeNames:  map[string]string{"#name": "name"},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		var items []memberItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return fmt.Errorf("decode members of %s: %w", group, err)
		}
		rows := make([]pg.MemberRow, len(items))
		for i, it := range items {
			rows[i] = pg.MemberRow{Email: it.Email, Name: it.Name}
		}
		if err := fn(rows); err != nil {
			return err
		}
	}
	return nil
}

// Suppress puts an address on the service's own suppression list.
func (st *Store) Suppress(ctx context.Context, email, reason string, at time.Time) error {
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(pkSuppressed), attrSK: s(email), "reason": s(reason), "at": s(stamp(at)),
	}})
	if err != nil {
		return unavailable(fmt.Errorf("suppress: %w", err))
	}
	return nil
}

// Suppressed returns the addresses on the suppression list.
func (st *Store) Suppressed(ctx context.Context) (map[string]bool, error) {
	var items []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, pkSuppressed, "", &items); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, it := range items {
		if v, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
			out[v.Value] = true
		}
	}
	return out, nil
}

// StartPublication records how many recipients a round has, and when sending began.
func (st *Store) StartPublication(ctx context.Context, round, total int, at time.Time) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET #total = :total, startedAt = if_not_exists(startedAt, :at)"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#total": "total"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":total": n(int64(total)), ":at": s(stamp(at))},
	})
	if err != nil {
		return unavailable(fmt.Errorf("start publication %d: %w", round, err))
	}
	return nil
}

// FinishPublication marks a round's announcements done.
func (st *Store) FinishPublication(ctx context.Context, round int, at time.Time) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET done = :done, finishedAt = if_not_exists(finishedAt, :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": &types.AttributeValueMemberBOOL{Value: true}, ":at": s(stamp(at))},
	})
	if err != nil {
		return unavailable(fmt.Errorf("finish publication %d: %w", round, err))
	}
	return nil
}

// row is the one conversion of a stored ledger item to the domain's row.
func (it ledgerItem) row() pg.LedgerRow {
	return pg.LedgerRow{
		LedgerID: pg.LedgerID{Kind: pg.LedgerKind(it.Kind), Group: it.Group, Email: it.Email},
		Name:     it.Name, State: pg.LedgerState(it.State), Run: it.Run, ClaimedAt: parseStamp(it.ClaimedAt),
		MessageID: it.MessageID, Reason: it.Reason,
	}
}

// LedgerRows reads the ledger rows of a batch, strongly consistent.
func (st *Store) LedgerRows(ctx context.Context, round int, ids []pg.LedgerID) (map[pg.LedgerID]pg.LedgerRow, error) {
	out := map[pg.LedgerID]pg.LedgerRow{}
	for start := 0; start < len(ids); start += 100 {
		var ks []map[string]types.AttributeValue
		for _, id := range ids[start:min(start+100, len(ids))] {
			ks = append(ks, key(ledgerPK(round), ledgerSK(id)))
		}
		request := map[string]types.KeysAndAttributes{st.Table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		for len(request) > 0 && len(request[st.Table].Keys) > 0 {
			res, err := st.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
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
func (st *Store) Claim(ctx context.Context, round int, rows []pg.LedgerRow) error {
	return st.claim(ctx, ledgerPK(round), rows)
}

// ClaimReminder writes a reminder's row as sending, conditionally, as Claim does.
func (st *Store) ClaimReminder(ctx context.Context, round int, r pg.LedgerRow) error {
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
	expr, names, values := set(map[string]types.AttributeValue{
		"state": s(string(r.State)), "messageId": s(r.MessageID), "reason": s(r.Reason), "settledAt": s(stamp(at)),
	})
	names["#state"], names["#run"] = "state", "run"
	values[":sending"], values[":run"] = s(string(pg.LedgerSending)), s(r.Run)
	return &types.Update{
		TableName: aws.String(st.Table), Key: key(pk, ledgerSK(r.LedgerID)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#state = :sending AND #run = :run"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// Settle writes the final states of rows this run holds and, in the same transaction,
// a progress item of their counts under its own key (id, unique to this settle), so
// that no two settles ever write the same item: four workers settling at once cannot
// cancel each other's transactions. id is also the transaction's idempotency token, so
// a settle retried after a lost answer does not count twice.
func (st *Store) Settle(ctx context.Context, round int, id string, rows []pg.LedgerRow, at time.Time) error {
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
			},
		}})
	}
	_, err := st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(id)})
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
func (st *Store) SettleReminder(ctx context.Context, round int, r pg.LedgerRow, at time.Time) error {
	u := st.settleUpdate(reminderPK(round), r, at)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	if err != nil {
		return unavailable(fmt.Errorf("settle reminder: %w", err))
	}
	return nil
}

// Ledger returns every row of a round's announcement ledger (for tests and the admin's tally).
func (st *Store) Ledger(ctx context.Context, round int) ([]pg.LedgerRow, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, ledgerPK(round), "", &raw); err != nil {
		return nil, err
	}
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
func (st *Store) ReminderRow(ctx context.Context, round int, id pg.LedgerID) (pg.LedgerRow, bool, error) {
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

// ImportMembers writes confirmed members of a group in batches of 25, without
// confirmation emails: for moving an existing list in, and for the benchmark.
func (st *Store) ImportMembers(ctx context.Context, group string, members []pg.MemberRow, at time.Time) error {
	for start := 0; start < len(members); start += 25 {
		var reqs []types.WriteRequest
		for _, m := range members[start:min(start+25, len(members))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				attrPK: s(personPK(m.Email)), attrSK: s(membershipSK(group)),
				attrGSI1PK: s(groupMembersPK(group)), attrGSI1SK: s(groupMemberSK(string(pg.StatusConfirmed), m.Email)),
				"groupId": s(group), "status": s(string(pg.StatusConfirmed)), "joinedAt": s(stamp(at)), "consentForm": s("import"),
				"email": s(m.Email), "name": s(m.Name), "councilCode": s(m.CouncilCode), "organisation": s(m.Organisation), "jobTitle": s(m.JobTitle),
			}}})
		}
		for len(reqs) > 0 {
			out, err := st.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Table: reqs}})
			if err != nil {
				return unavailable(fmt.Errorf("import members: %w", err))
			}
			reqs = out.UnprocessedItems[st.Table]
		}
	}
	return nil
}
