package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Publishing a round writes the items whose INSERT on the stream starts its
// announcements, under the keys the stream filter and handler look for.
func TestAPublicationAndItsResumeAreStoredUnderTheKeysTheStreamStartsFrom(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	r := draftRound(t, st, 12)
	r.PublishedAt = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if err := dynamo.Capabilities(st).Rounds.PublishRound(ctx, r, auditBy); err != nil {
		t.Fatal(err)
	}

	round := item(t, st, "ROUNDS", "ROUND#0012")
	if str(round, "state") != pg.RoundPublished || str(round, "publishedAt") != "2026-11-27T10:00:00Z" {
		t.Errorf("the round as stored: %v, want published at 2026-11-27T10:00:00Z", round)
	}
	pub := item(t, st, "ROUND#0012", "PUBLICATION")
	if pub == nil || dynamo.PublicationSK != "PUBLICATION" || !dynamo.IsPublication(str(pub, "sk")) {
		t.Fatalf("no publication at ROUND#0012 / %s: %v", dynamo.PublicationSK, pub)
	}
	if str(pub, dynamo.PublicationRoundAttribute) != "12" || str(pub, "total") != "0" {
		t.Errorf("the publication as stored: %v, want round 12, total 0", pub)
	}

	resumedAt := r.PublishedAt.Add(2 * time.Hour)
	if err := dynamo.Capabilities(st).Rounds.ResumePublication(ctx, 12, resumedAt, auditBy); err != nil {
		t.Fatal(err)
	}
	out, err := dbClient(t).Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ROUND#0012"}, ":prefix": &types.AttributeValueMemberS{Value: "PUBLICATION"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var resumes []map[string]types.AttributeValue
	for _, it := range out.Items {
		if str(it, "sk") != "PUBLICATION" {
			resumes = append(resumes, it)
		}
	}
	if len(resumes) != 1 {
		t.Fatalf("%d resume items under ROUND#0012, want 1", len(resumes))
	}
	resume := resumes[0]
	if sk := str(resume, "sk"); sk != "PUBLICATION#RESUME#2026-11-27T12:00:00Z" || !dynamo.IsPublication(sk) {
		t.Errorf("the resume's sort key is %q, want PUBLICATION#RESUME#2026-11-27T12:00:00Z, a publication to the stream", sk)
	}
	if str(resume, dynamo.PublicationRoundAttribute) != "12" || str(resume, dynamo.TTLAttribute) == "" {
		t.Errorf("the resume as stored: %v, want round 12 and an expiry", resume)
	}
	p, err := dynamo.Capabilities(st).Rounds.Publication(ctx, 12)
	if err != nil || !p.ResumedAt.Equal(resumedAt) || p.Round != 12 {
		t.Errorf("publication %+v (%v), want round 12 resumed at %s", p, err, resumedAt)
	}
	for _, sk := range []string{"EVENT#london", "ROUND#0012", "PUBLICATIONS", "XPUBLICATION"} {
		if dynamo.IsPublication(sk) {
			t.Errorf("%q counts as a publication", sk)
		}
	}
}
