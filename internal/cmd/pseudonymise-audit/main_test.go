package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/testenv"
)

// The command, run as an operator runs it: it refuses to key pseudonyms by anything but
// PSEUDONYM_KEY, rewrites an old entry and lists it by person, and run again says it
// has nothing to change.
func TestTheCommandPseudonymisesOnceAndThenSaysThereIsNothingToChange(t *testing.T) {
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	table := testenv.Table(t, db)
	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{"TABLE_NAME": table, "LINK_KEY": base64.StdEncoding.EncodeToString(key)}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k) // the stand-ins' endpoints and credentials
	}
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(dynamo.AuditTableName(table)), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "AUDIT"}, "sk": &types.AttributeValueMemberS{Value: at.Format("2006-01-02T15:04:05.000000Z") + "#000000000001"},
		"at": &types.AttributeValueMemberS{Value: at.Format(time.RFC3339)}, "actor": &types.AttributeValueMemberS{Value: "admin@example.org"},
		"action": &types.AttributeValueMemberS{Value: "appoint facilitator"}, "target": &types.AttributeValueMemberS{Value: "london ada@example.org"},
	}}); err != nil {
		t.Fatal(err)
	}

	var out, errs bytes.Buffer
	if code := run(ctx, nil, getenv, &out, &errs); code != 2 || !strings.Contains(errs.String(), "set PSEUDONYM_KEY") || out.Len() != 0 {
		t.Errorf("without PSEUDONYM_KEY: exit %d, printed %q, %q; want it refused, nothing done", code, out.String(), errs.String())
	}
	env["PSEUDONYM_KEY"] = strings.Repeat("k", 40)
	out.Reset()
	errs.Reset()
	if code := run(ctx, nil, getenv, &out, &errs); code != 0 || !strings.Contains(out.String(), "1 entries read, 1 rewritten without addresses, 2 pointers written") {
		t.Errorf("first run: exit %d, printed %q, %q", code, out.String(), errs.String())
	}
	out.Reset()
	if code := run(ctx, nil, getenv, &out, &errs); code != 0 || !strings.Contains(out.String(), "1 entries read, 0 rewritten without addresses, 0 pointers written") ||
		!strings.Contains(out.String(), "nothing to change") {
		t.Errorf("second run: exit %d, printed %q, %q", code, out.String(), errs.String())
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(dynamo.AuditTableName(table)), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "AUDIT"}, "sk": &types.AttributeValueMemberS{Value: at.Format("2006-01-02T15:04:05.000000Z") + "#000000000001"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if target := got.Item["target"].(*types.AttributeValueMemberS).Value; strings.Contains(target, "@") || !strings.HasPrefix(target, "london person ") {
		t.Errorf("the entry's target after the runs: %q", target)
	}
}
