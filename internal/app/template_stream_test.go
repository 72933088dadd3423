package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

// Lambda gives up on a stream record after its retries: each stream trigger sends what it
// gives up to a queue, its role may write there, and an alarm watches the queue.
func TestTemplateStreamTriggersHaveAFailureDestinationWithAnAlarm(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	found := 0
	for _, fn := range tpl.functions(t) {
		events, _ := tpl.Resources[fn].Properties["Events"].(map[string]any)
		for name, e := range events {
			if yamlAt(e, "Type") != "DynamoDB" {
				continue
			}
			found++
			where := fn + ".Events." + name
			props, _ := yamlAt(e, "Properties").(map[string]any)
			queue := yamlList(yamlAt(props, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt"))
			if len(queue) == 0 || tpl.Resources[fmt.Sprint(queue[0])].Type != "AWS::SQS::Queue" {
				t.Errorf("%s has no DestinationConfig.OnFailure queue: a record Lambda gives up on would leave no trace", where)
				continue
			}
			q := fmt.Sprint(queue[0])
			if retries, _ := props["MaximumRetryAttempts"].(int); retries < 1 {
				t.Errorf("%s: MaximumRetryAttempts %v, want a limit", where, props["MaximumRetryAttempts"])
			}
			if age, _ := props["MaximumRecordAgeInSeconds"].(int); age < 3600 {
				t.Errorf("%s: MaximumRecordAgeInSeconds %v, want at least an hour (several leases)", where, props["MaximumRecordAgeInSeconds"])
			}
			sends := false
			for _, st := range statementsIn(tpl.Resources[fn].Properties["Policies"], fn) {
				if slices.Contains(yamlStrings(st.body["Action"]), "sqs:SendMessage") && namesResource(st.body["Resource"], q) {
					sends = true
				}
			}
			if !sends {
				t.Errorf("%s may not sqs:SendMessage to %s, its failure destination", fn, q)
			}
			alarmed := false
			for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
				props := tpl.Resources[id].Properties
				for _, d := range yamlList(props["Dimensions"]) {
					if yamlAt(d, "Name") == "QueueName" && namesResource(yamlAt(d, "Value"), q) && len(yamlList(props["AlarmActions"])) > 0 {
						alarmed = true
					}
				}
			}
			if !alarmed {
				t.Errorf("no CloudWatch alarm with an action watches %s, where %s's dropped triggers go", q, where)
			}
		}
	}
	if found == 0 {
		t.Fatal("template.yaml has no stream trigger")
	}
}

// The announce function's stream filter passes exactly the items whose INSERT the handler
// runs: the PUBLICATION item and its PUBLICATION#RESUME items, by one constant. The prefix
// is read from template.yaml and must be dynamo.PublicationSK, and the handler must run
// the INSERTs of sort keys with that prefix, and no other: a change of either alone fails.
func TestTemplateStreamFilterPassesThePublicationsTheHandlerRuns(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	filters := yamlList(yamlAt(tpl.Resources["AnnounceFunction"].Properties, "Events", "Publications", "Properties", "FilterCriteria", "Filters"))
	if len(filters) != 1 {
		t.Fatalf("AnnounceFunction's Publications trigger has %d filters, want 1", len(filters))
	}
	var pattern struct {
		EventName []string `json:"eventName"`
		Dynamodb  map[string]map[string]struct {
			S []struct {
				Prefix string `json:"prefix"`
			} `json:"S"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(yamlAt(filters[0], "Pattern"))), &pattern); err != nil {
		t.Fatalf("the filter pattern is not JSON: %v", err)
	}
	image := pattern.Dynamodb["NewImage"]
	key := image[dynamo.SortKeyAttribute]
	if !slices.Equal(pattern.EventName, []string{"INSERT"}) || len(pattern.Dynamodb) != 1 || len(image) != 1 || len(key.S) != 1 {
		t.Fatalf("the filter %v does not pass exactly the INSERTs of %s prefixes", yamlAt(filters[0], "Pattern"), dynamo.SortKeyAttribute)
	}
	prefix := key.S[0].Prefix
	if prefix != dynamo.PublicationSK {
		t.Errorf("the filter passes sort keys starting %q, the store writes publications as %q", prefix, dynamo.PublicationSK)
	}

	insert := func(sk string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: map[string]events.DynamoDBAttributeValue{
			dynamo.SortKeyAttribute: events.NewStringAttribute(sk), dynamo.PublicationRoundAttribute: events.NewNumberAttribute("3"),
		}}}
	}
	for _, sk := range []string{prefix, prefix + "#RESUME#2026-11-27T10:00:00Z"} {
		if round, ok := dynamostream.PublicationRound(insert(sk)); !ok || round != 3 {
			t.Errorf("the filter passes the INSERT of %q, but the handler does not run it (%d, %v)", sk, round, ok)
		}
	}
	for _, sk := range []string{"", "EVENT#london", prefix[:len(prefix)-1], "X" + prefix, strings.ToLower(prefix)} {
		if round, ok := dynamostream.PublicationRound(insert(sk)); ok {
			t.Errorf("the handler runs round %d for the INSERT of %q, which the filter does not pass", round, sk)
		}
	}
}
