package app_test

import (
	"context"
	"net/http"
	"strings"
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

// The audit trail names people by their keyed pseudonym, never by address, since it is
// never rewritten and an erased person must not stay in it: the admins' page shows the
// admins and facilitators by address again, and anyone else (a facilitator removed
// since) by pseudonym.
func TestAuditEntriesNamePeopleByPseudonymAndThePageShowsTheTeamByAddress(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	network := s.App.Services.Network
	by := pg.Caller{Email: admin, Admin: true}
	kept, gone := testenv.Address("kept"), testenv.Address("gone")
	for _, fac := range []string{kept, gone} {
		if err := network.AppointFacilitator(ctx, by, "london", fac); err != nil {
			t.Fatal(err)
		}
	}
	if err := network.RemoveFacilitator(ctx, by, "london", gone); err != nil {
		t.Fatal(err)
	}

	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	out, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(dynamo.AuditTableName(s.Table)), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "AUDIT"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) < 3 {
		t.Fatalf("%d audit entries, want the three appointments and removal at least", len(out.Items))
	}
	for _, it := range out.Items {
		for name, v := range it {
			if sv, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(sv.Value, "@") {
				t.Errorf("an audit entry's %s holds an address: %q", name, sv.Value)
			}
		}
	}

	entries := auditTrail(t, s, admin)
	goneName := pg.MailOutTarget(s.App.Services.Memberships.Pseudonym, gone)
	var sawKept, sawGone bool
	for _, e := range entries {
		if e.Action != "appoint facilitator" {
			continue
		}
		if e.Actor != admin {
			t.Errorf("the admin who appointed is shown as %q", e.Actor)
		}
		sawKept = sawKept || e.Target == "london "+kept
		sawGone = sawGone || e.Target == "london "+goneName
		if strings.Contains(e.Target, gone) || strings.Contains(e.After, gone) {
			t.Errorf("a facilitator removed since is shown by address: %+v", e)
		}
	}
	if !sawKept || !sawGone {
		t.Errorf("the appointments as shown: kept by address %v, removed by pseudonym %v: %+v", sawKept, sawGone, entries)
	}
}
