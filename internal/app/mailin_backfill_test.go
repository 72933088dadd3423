package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// Conversations stored before a group's conversations were copied to its own inbox
// partition, and before messages were listed by sender, are missing from their
// facilitators' inbox and from the sender's export. The backfill (make backfill-inbox)
// lists them where they are read now, writes nothing the second time, and stops at
// its limit.
func TestTheBackfillListsOlderConversationsInTheirGroupsInboxAndBySender(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	fac := testenv.Address("backfill-fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, pg.Caller{Email: s.admin, Admin: true}, "midlands", fac); err != nil {
		t.Fatal(err)
	}
	sender := testenv.Address("backfill-sender")
	group := s.receive(simple(sender, "Venue in Derby", "Is it step-free?"), "ses-backfill-1", "midlands@"+groupsDomain).Conversation
	admins := s.receive(simple(sender, "A question", "Who runs this?"), "ses-backfill-2").Conversation

	// As they were stored before: no copy in the group's inbox, no sender index.
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	table := aws.String(s.Table)
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "CONV#" + group.Ref}, "sk": &types.AttributeValueMemberS{Value: "CONV#GROUP"},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{group.Ref, admins.Ref} {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :msg)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CONV#" + ref}, ":msg": &types.AttributeValueMemberS{Value: "MSG#"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]},
				UpdateExpression: aws.String("REMOVE gsi1pk, gsi1sk")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bySender := func() int {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "SENDER#" + pg.NormaliseEmail(sender)}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Items)
	}
	f := s.as(fac)
	if strings.Contains(f.get("/admin/inbox").Body, group.Ref) || bySender() != 0 {
		t.Fatal("the conversation is listed before the backfill: the test does not reproduce older items")
	}

	store := s.App.Stores.MailIn
	first, err := store.BackfillInbox(ctx, 1)
	if err != nil || !first.More || first.Conversations != 1 {
		t.Fatalf("with a limit of 1: %+v, %v; want it to stop after one conversation and say so", first, err)
	}
	rest, err := store.BackfillInbox(ctx, 1000)
	if err != nil || rest.More || rest.Conversations != 2 {
		t.Fatalf("the backfill: %+v, %v", rest, err)
	}
	if copies, msgs := first.GroupCopies+rest.GroupCopies, first.Messages+rest.Messages; copies != 1 || msgs != 2 {
		t.Errorf("the two runs wrote %d group copies and listed %d messages, want 1 and 2", copies, msgs)
	}
	mustContain(t, f.get("/admin/inbox").Body, group.Ref, "Venue in Derby")
	if strings.Contains(f.get("/admin/inbox").Body, admins.Ref) {
		t.Error("the admins' conversation was put in the group's inbox")
	}
	if n := bySender(); n != 2 {
		t.Errorf("%d messages listed by their sender after the backfill, want 2", n)
	}
	if again, err := store.BackfillInbox(ctx, 1000); err != nil || again.GroupCopies != 0 || again.Messages != 0 || again.Conversations != 2 {
		t.Errorf("run again: %+v, %v; want nothing written", again, err)
	}
}
