package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Store keeps the domain in one table.
type Store struct {
	db    operations
	Table string
	// Box seals the emails kept in the outbox (they carry working links); a store
	// without one refuses to write or read them.
	Box Sealer

	// Retention is how long items are kept (0: for ever): what is written gets a ttl
	// that far ahead, and what is read past it is treated as gone, since DynamoDB's
	// TTL deletes expired items only eventually.
	Retention pg.Retention
	// Now is the clock the read-time expiry checks tell the time by (nil: time.Now).
	Now func() time.Time
	// PersonPseudonym keys the names audit entries give people: every address in an
	// entry is written as pg.MailOutTarget's "person <keyed hash>" (nil: as it is).
	PersonPseudonym func(parts ...string) string
}

func (st *Store) now() time.Time {
	if st.Now != nil {
		return st.Now()
	}
	return time.Now()
}

// operations are the DynamoDB operations the store calls, as the client's method
// values. The store does not keep the client itself, on purpose: a Store is used as an
// interface, and a client reachable from its type would make the linker keep all of
// DynamoDB's operations in every binary that also renders templates (text/template
// calls methods by name), which is megabytes and a slower cold start.
type operations struct {
	GetItem            func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem       func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem            func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem         func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem         func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem     func(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query              queryFunc
}

func operationsOf(db *dynamodb.Client) operations {
	return operations{
		GetItem: db.GetItem, BatchGetItem: db.BatchGetItem, PutItem: db.PutItem, UpdateItem: db.UpdateItem,
		DeleteItem: db.DeleteItem, BatchWriteItem: db.BatchWriteItem, TransactWriteItems: db.TransactWriteItems,
		Query: db.Query,
	}
}

// queryFunc is Query, which is all the SDK's query paginator needs of a client.
type queryFunc func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)

func (q queryFunc) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return q(ctx, in, opts...)
}

// New returns a Store for a table.
func New(db *dynamodb.Client, table string) *Store { return &Store{db: operationsOf(db), Table: table} }

// UseClient makes st use db from now on (tests put a fault proxy in front of DynamoDB
// this way). It is a function, not a method, so that the Store's type does not refer to
// the client (see operations).
func UseClient(st *Store, db *dynamodb.Client) { st.db = operationsOf(db) }

// Items are stored with times as RFC 3339 strings in UTC, and ttl as Unix seconds.

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(pk), attrSK: s(sk)}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// transact runs a transaction whose first rateItems items are rate-limit counters. An
// audit entry among items is listed under each person it names in the same
// transaction (withAuditPointers).
func (st *Store) transact(ctx context.Context, what string, items []types.TransactWriteItem, rateItems int) error {
	items, later := st.withAuditPointers(items)
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return st.putAuditPointers(ctx, later)
	}
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		for i := 0; i < rateItems; i++ {
			if reasonAt(cancelled, i) == "ConditionalCheckFailed" {
				return ErrTooMany
			}
		}
		if !contended(cancelled) {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return unavailable(fmt.Errorf("%s: %w", what, contendedOr(err)))
}

// contended reports whether DynamoDB cancelled a transaction only because of other
// writes in flight (TransactionConflict) or throttling, and not because a condition
// failed: trying the same transaction again later is right.
func contended(e *types.TransactionCanceledException) bool {
	busy := false
	for _, r := range e.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed", "ValidationError", "ItemCollectionSizeLimitExceeded":
			return false
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			busy = true
		}
	}
	return busy
}

// contendedOr marks err with pg.ErrContended when it says that other writes were in the
// way (a cancelled transaction's conflicts, or the same transaction still in progress).
func contendedOr(err error) error {
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && contended(cancelled) {
		return fmt.Errorf("%w: %w", pg.ErrContended, err)
	}
	if _, ok := errors.AsType[*types.TransactionInProgressException](err); ok {
		return fmt.Errorf("%w: %w", pg.ErrContended, err)
	}
	return err
}

func reasonAt(e *types.TransactionCanceledException, i int) string {
	if i < len(e.CancellationReasons) && e.CancellationReasons[i].Code != nil {
		return *e.CancellationReasons[i].Code
	}
	return ""
}

// unavailable marks an error talking to DynamoDB as worth retrying later.
func unavailable(err error) error {
	return pg.Wrap(pg.KindUnavailable, err, "The service is not available just now. Try again in a few minutes.")
}

// set builds "SET #a0 = :v0, #a1 = :v1, ..." for attributes, naming every attribute
// with a placeholder so that none can clash with DynamoDB's reserved words.
func set(attrs map[string]types.AttributeValue) (string, map[string]string, map[string]types.AttributeValue) {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	expr := make([]string, len(names))
	placeholders := map[string]string{}
	values := map[string]types.AttributeValue{}
	for i, name := range names {
		placeholders["#a"+strconv.Itoa(i)] = name
		values[":v"+strconv.Itoa(i)] = attrs[name]
		expr[i] = "#a" + strconv.Itoa(i) + " = :v" + strconv.Itoa(i)
	}
	return "SET " + strings.Join(expr, ", "), placeholders, values
}

// get reads one item, strongly consistent, into out; a KindNotFound error if missing.
func (st *Store) get(ctx context.Context, pk, sk string, out any) error {
	res, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return unavailable(fmt.Errorf("get %s %s: %w", pk, sk, err))
	}
	if res.Item == nil {
		return errNotFound
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", pk, sk, err)
	}
	return nil
}

// queryAll reads a whole partition into out, a pointer to a slice.
func (st *Store) queryAll(ctx context.Context, pk string, out any) error {
	var all []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("query %s: %w", pk, err))
		}
		all = append(all, page.Items...)
	}
	if err := attributevalue.UnmarshalListOfMaps(all, out); err != nil {
		return fmt.Errorf("decode %s: %w", pk, err)
	}
	return nil
}

// queryPrefix reads the items of a partition whose sort keys start with prefix.
func (st *Store) queryPrefix(ctx context.Context, pk, prefix string, out *[]map[string]types.AttributeValue) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":prefix": s(prefix)},
		ConsistentRead:            aws.Bool(true),
	}
	if prefix == "" {
		in.KeyConditionExpression = aws.String("pk = :pk")
		delete(in.ExpressionAttributeValues, ":prefix")
	}
	p := dynamodb.NewQueryPaginator(st.db.Query, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("query %s %s: %w", pk, prefix, err))
		}
		*out = append(*out, page.Items...)
	}
	return nil
}
