package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// These tests run the adapter against DynamoDB Local with the real SDK (`make test`
// starts it; without it they are skipped, and fail in CI). Each has a table of its own.

// newStore returns a store on a fresh table.
func newStore(t *testing.T) *dynamo.Store {
	t.Helper()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	return dynamo.New(db, testenv.Table(t, db))
}

// item reads one item of the table by its keys, as stored; nil when there is none.
func item(t *testing.T, st *dynamo.Store, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dbClient(t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(st.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		t.Fatalf("get %s / %s: %v", pk, sk, err)
	}
	return out.Item
}

// str returns a string or number attribute of an item, "" when it has none.
func str(it map[string]types.AttributeValue, name string) string {
	switch v := it[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

// retryContended calls write again while DynamoDB cancels it for other writes in flight
// (pg.ErrContended), as the announcer does; a few times at most.
func retryContended(write func() error) error {
	var err error
	for range 10 {
		if err = write(); !errors.Is(err, pg.ErrContended) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

var auditBy = pg.AuditEntry{At: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Actor: "admin@example.org", Action: "test"}

// draftRound creates round n as a draft.
func draftRound(t *testing.T, st *dynamo.Store, n int) pg.Round {
	t.Helper()
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, pg.London)
	r := pg.Round{Number: n, Title: "Round", Summary: "About it", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), State: pg.RoundDraft}
	if err := dynamo.Capabilities(st).Rounds.CreateRound(context.Background(), r, auditBy); err != nil {
		t.Fatalf("create round %d: %v", n, err)
	}
	return r
}

// dbClient is a DynamoDB client of the test's own, for reading what the store wrote.
func dbClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	return app.NewClients(testenv.AWSConfig(t)).DynamoDB
}
