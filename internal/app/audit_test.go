package app_test

import (
	"context"
	"net/http"
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

// Audit entries go to the audit table, which the web function may only add to and read
// (template_test.go checks the IAM side); entries written before it existed, in the
// table's AUDIT partition, still follow them in the trail.
func TestAuditEntriesAreWrittenToTheAuditTableAndOlderOnesStillShow(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB

	// An entry written the old way, into the table itself, a day ago.
	old := time.Now().Add(-24 * time.Hour).UTC()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "AUDIT"}, "sk": &types.AttributeValueMemberS{Value: old.Format("2006-01-02T15:04:05.000000Z") + "#000000000000"},
		"at": &types.AttributeValueMemberS{Value: old.Format(time.RFC3339)}, "actor": &types.AttributeValueMemberS{Value: admin},
		"action": &types.AttributeValueMemberS{Value: "legacy action"}, "target": &types.AttributeValueMemberS{Value: "london"},
	}}); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("fac")
	if err := s.App.Stores.Network.SetRole(ctx, fac, pg.RoleFacilitator, "london", true, pg.AuditEntry{At: time.Now(), Actor: admin, Action: "appoint facilitator", Target: "london " + fac}); err != nil {
		t.Fatal(err)
	}

	count := func(table string) int {
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "AUDIT"}},
		})
		if err != nil {
			t.Fatalf("query %s: %v", table, err)
		}
		return len(out.Items)
	}
	if n := count(dynamo.AuditTableName(s.Table)); n != 1 {
		t.Fatalf("%d entries in the audit table, want the new one", n)
	}
	if n := count(s.Table); n != 1 {
		t.Fatalf("%d audit entries in the table, want only the one written before the audit table", n)
	}

	first, next, err := s.App.Stores.Network.Audit(ctx, 1, "")
	if err != nil || len(first) != 1 || first[0].Action != "appoint facilitator" || next == "" {
		t.Fatalf("first page: %+v, next %q, %v", first, next, err)
	}
	second, next, err := s.App.Stores.Network.Audit(ctx, 1, next)
	if err != nil || len(second) != 1 || second[0].Action != "legacy action" {
		t.Fatalf("second page: %+v, next %q, %v", second, next, err)
	}
	if third, _, err := s.App.Stores.Network.Audit(ctx, 1, next); err != nil || len(third) != 0 {
		t.Fatalf("third page: %+v, %v", third, err)
	}
	all, next, err := s.App.Stores.Network.Audit(ctx, 50, "")
	if err != nil || len(all) != 2 || all[0].Action != "appoint facilitator" || all[1].Action != "legacy action" || next != "" {
		t.Fatalf("one page of 50: %+v, next %q, %v", all, next, err)
	}

	s.client.Jar.SetCookies(mustURL(t, s.URL), []*http.Cookie{{Name: "session", Value: s.sessionFor(t, admin)}})
	mustContain(t, s.get("/admin/audit").Body, "appoint facilitator", "legacy action")
}
