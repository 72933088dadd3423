package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Sealer seals what the outbox keeps of an email, bound to the item's ID
// (links.Box does it).
type Sealer interface {
	Seal(plain []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// outboxItem is an outbox item as stored. The email is sealed: it carries working
// links (sign-in links among them), and the table must give nobody one. It is dropped
// once the item is settled.
type outboxItem struct {
	ID        string `dynamodbav:"id"`
	State     string `dynamodbav:"state"`
	Sealed    []byte `dynamodbav:"sealed,omitempty"`
	Invite    string `dynamodbav:"invite,omitempty"`
	CreatedAt string `dynamodbav:"createdAt"`
	Run       string `dynamodbav:"run,omitempty"`
	ClaimedAt string `dynamodbav:"claimedAt,omitempty"`
	Attempts  int    `dynamodbav:"attempts"`
	Reason    string `dynamodbav:"reason,omitempty"`
	SettledAt string `dynamodbav:"settledAt,omitempty"`
	// Conversation is the mail-in conversation its email belongs to, and MessageID the
	// SES message ID of its email once sent (listed in gsi1 under SENT#<ses id>).
	Conversation string `dynamodbav:"conversation,omitempty"`
	MessageID    string `dynamodbav:"messageId,omitempty"`
}

// outboxPuts returns the puts of outbox items, for the transaction of the change they
// follow. Each is new: its ID is random, and the put is conditioned on that.
func (st *Store) outboxPuts(items []pg.OutboxItem) ([]types.TransactWriteItem, error) {
	var puts []types.TransactWriteItem
	for _, it := range items {
		row := outboxItem{ID: it.ID, State: outbox.StateWaiting, Invite: it.Invite, CreatedAt: stamp(it.At), Conversation: it.Conversation}
		if it.ID == "" || (it.Message == nil) == (it.Invite == "") {
			return nil, fmt.Errorf("outbox item %q: want an ID and either a message or an invitation", it.ID)
		}
		if it.Message != nil {
			if st.Box == nil {
				return nil, fmt.Errorf("outbox item %s: the store has no key to seal emails with", it.ID)
			}
			plain, err := json.Marshal(it.Message)
			if err != nil {
				return nil, fmt.Errorf("encode outbox item %s: %w", it.ID, err)
			}
			if row.Sealed, err = st.Box.Seal(plain, it.ID); err != nil {
				return nil, fmt.Errorf("seal outbox item %s: %w", it.ID, err)
			}
		}
		item, err := attributevalue.MarshalMap(row)
		if err != nil {
			return nil, fmt.Errorf("encode outbox item %s: %w", it.ID, err)
		}
		item[attrPK], item[attrSK], item[attrTTL] = s(outboxPK(it.ID)), s(OutboxSK), n(it.At.Add(pg.OutboxTTL).Unix())
		if it.Conversation != "" && st.Retention.DeliveryEvents > pg.OutboxTTL {
			// The email of a conversation is found by its SES message ID as long as what
			// happened to an email is kept, so that a late reply still joins it.
			item[attrTTL] = n(it.At.Add(st.Retention.DeliveryEvents).Unix())
		}
		puts = append(puts, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	return puts, nil
}

// withOutbox appends the puts of outbox items to a transaction's items.
func (st *Store) withOutbox(items []types.TransactWriteItem, out []pg.OutboxItem) ([]types.TransactWriteItem, error) {
	puts, err := st.outboxPuts(out)
	if err != nil {
		return nil, err
	}
	return append(items, puts...), nil
}

// Enqueue stores outbox items on their own (one PutItem, or one transaction for several).
func (st *OutboxStore) Enqueue(ctx context.Context, items ...pg.OutboxItem) error {
	puts, err := st.outboxPuts(items)
	if err != nil || len(puts) == 0 {
		return err
	}
	if len(puts) > 1 {
		return st.transact(ctx, "queue emails", puts, 0)
	}
	p := puts[0].Put
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression}); err != nil {
		return unavailable(fmt.Errorf("queue email: %w", err))
	}
	return nil
}

// ClaimOutbox marks an item as being sent by run: if it is waiting, or if the run that
// claimed it did so more than a lease ago. One conditional UpdateItem returns the item.
func (st *OutboxStore) ClaimOutbox(ctx context.Context, id, run string, now time.Time, lease time.Duration) (outbox.Item, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(st.Table),
		Key:              key(outboxPK(id), OutboxSK),
		UpdateExpression: aws.String("SET #state = :sending, #run = :run, claimedAt = :now ADD attempts :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (#state = :waiting OR " +
			"(#state = :sending AND claimedAt < :expired))"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#run": "run"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sending": s(outbox.StateSending), ":waiting": s(outbox.StateWaiting), ":run": s(run),
			":now": s(stampMilli(now)), ":expired": s(stampMilli(now.Add(-lease))), ":one": n(1),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		var old outboxItem
		if len(failed.Item) == 0 {
			return outbox.Item{}, outbox.ErrDone // expired and deleted, or never written
		}
		if err := attributevalue.UnmarshalMap(failed.Item, &old); err != nil {
			return outbox.Item{}, fmt.Errorf("decode outbox item %s: %w", id, err)
		}
		if old.State == outbox.StateSending {
			return outbox.Item{}, &outbox.BusyError{Until: parseStampMilli(old.ClaimedAt).Add(lease)}
		}
		return outbox.Item{}, outbox.ErrDone
	}
	if err != nil {
		return outbox.Item{}, unavailable(fmt.Errorf("claim outbox item %s: %w", id, err))
	}
	var row outboxItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &row); err != nil {
		return outbox.Item{}, fmt.Errorf("decode outbox item %s: %w", id, err)
	}
	item := outbox.Item{ID: id, Invite: row.Invite, ClaimedAt: now}
	if len(row.Sealed) > 0 {
		var msg pg.Message
		plain, err := st.open(row.Sealed, id)
		if err == nil {
			err = json.Unmarshal(plain, &msg)
		}
		if err != nil {
			item.Unusable = fmt.Sprintf("the email does not open: %v", err)
		} else {
			item.Message = &msg
		}
	}
	return item, nil
}

func (st *Store) open(sealed []byte, id string) ([]byte, error) {
	if st.Box == nil {
		return nil, fmt.Errorf("the store has no key to open emails with")
	}
	return st.Box.Open(sealed, id)
}

// SettleOutbox records the final state of an item run holds and drops its email. An
// email sent is listed in gsi1 under its SES message ID (SENT#<ses id>), in the same
// UpdateItem, as a round's ledger row is: a reply to it finds it (mail in).
func (st *OutboxStore) SettleOutbox(ctx context.Context, id, run, state, reason, messageID string, at time.Time) error {
	update := "SET #state = :state, settledAt = :at, reason = :reason"
	values := map[string]types.AttributeValue{
		":state": s(state), ":at": s(stampMilli(at)), ":reason": s(reason), ":sending": s(outbox.StateSending), ":run": s(run),
	}
	if messageID != "" {
		update += ", messageId = :message, gsi1pk = :sentpk, gsi1sk = :sentsk"
		values[":message"], values[":sentpk"], values[":sentsk"] = s(messageID), s(sentMailPK(messageID)), s(skSentMail)
	}
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       key(outboxPK(id), OutboxSK),
		UpdateExpression:          aws.String(update + " REMOVE sealed"),
		ConditionExpression:       aws.String("#state = :sending AND #run = :run"),
		ExpressionAttributeNames:  map[string]string{"#state": "state", "#run": "run"},
		ExpressionAttributeValues: values,
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return outbox.ErrLost
	}
	if err != nil {
		return unavailable(fmt.Errorf("settle outbox item %s: %w", id, err))
	}
	return nil
}

// ReleaseOutbox puts an item run holds back to waiting, with why.
func (st *OutboxStore) ReleaseOutbox(ctx context.Context, id, run, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(st.Table),
		Key:                      key(outboxPK(id), OutboxSK),
		UpdateExpression:         aws.String("SET #state = :waiting, reason = :reason REMOVE #run"),
		ConditionExpression:      aws.String("#state = :sending AND #run = :run"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#run": "run"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":waiting": s(outbox.StateWaiting), ":reason": s(reason), ":sending": s(outbox.StateSending), ":run": s(run),
		},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return outbox.ErrLost
	}
	if err != nil {
		return unavailable(fmt.Errorf("release outbox item %s: %w", id, err))
	}
	return nil
}

// OutboxState returns the state of an outbox item and how many runs claimed it (for
// tests and operators).
func (st *OutboxStore) OutboxState(ctx context.Context, id string) (state string, attempts int, err error) {
	var row outboxItem
	if err := st.get(ctx, outboxPK(id), OutboxSK, &row); err != nil {
		return "", 0, err
	}
	return row.State, row.Attempts, nil
}

// Leases are compared as strings: a fixed-width UTC form with milliseconds sorts as
// the times do.
const milliLayout = "2006-01-02T15:04:05.000Z"

func stampMilli(t time.Time) string { return t.UTC().Format(milliLayout) }

func parseStampMilli(v string) time.Time {
	t, _ := time.Parse(milliLayout, v)
	return t
}

// AddressSuppressed reports whether an address is on the suppression list (one GetItem).
func (st *OutboxStore) AddressSuppressed(ctx context.Context, email string) (bool, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(st.Table), Key: key(pkSuppressed, email), ProjectionExpression: aws.String("pk"),
	})
	if err != nil {
		return false, unavailable(fmt.Errorf("read the suppression list: %w", err))
	}
	return len(out.Item) > 0, nil
}

// AddressErased reports whether an erased address's hash is on the suppression list
// (one GetItem of SUPPRESSED / ERASED#<hash>).
func (st *OutboxStore) AddressErased(ctx context.Context, hash string) (bool, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(st.Table), Key: key(pkSuppressed, erasedSK(hash)), ProjectionExpression: aws.String("pk"),
	})
	if err != nil {
		return false, unavailable(fmt.Errorf("read the suppression list: %w", err))
	}
	return len(out.Item) > 0, nil
}
