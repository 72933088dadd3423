package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

const outboxFunction = "OutboxFunction"

// The outbox function's stream mapping passes exactly the INSERTs of outbox items, with
// the sort key the store writes, reports batch item failures, and sends what it gives up
// on to a queue; the sample event is such an INSERT.
func TestTemplateOutboxMappingPassesOutboxItems(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	fn := tpl.Resources[outboxFunction]
	if fn.Type != functionType {
		t.Fatalf("template.yaml has no %s %s", functionType, outboxFunction)
	}
	var streams []map[string]any
	for _, name := range yamlKeys(fn.Properties["Events"].(map[string]any)) {
		ev := fn.Properties["Events"].(map[string]any)[name]
		if yamlAt(ev, "Type") == "DynamoDB" {
			streams = append(streams, yamlAt(ev, "Properties").(map[string]any))
		}
	}
	if len(streams) != 1 {
		t.Fatalf("%s has %d DynamoDB stream events, want 1", outboxFunction, len(streams))
	}
	m := streams[0]
	filters := yamlList(yamlAt(m, "FilterCriteria", "Filters"))
	if len(filters) != 1 {
		t.Fatalf("%s: %d filters, want 1", outboxFunction, len(filters))
	}
	var pattern struct {
		EventName []string `json:"eventName"`
		DynamoDB  struct {
			Keys map[string]map[string][]string `json:"Keys"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal([]byte(yamlAt(filters[0], "Pattern").(string)), &pattern); err != nil {
		t.Fatalf("%s: filter pattern: %v", outboxFunction, err)
	}
	if !slices.Equal(pattern.EventName, []string{"INSERT"}) || !slices.Equal(pattern.DynamoDB.Keys["sk"]["S"], []string{dynamo.OutboxSK}) || len(pattern.DynamoDB.Keys) != 1 {
		t.Errorf("%s: filter %+v, want INSERTs with sk %q", outboxFunction, pattern, dynamo.OutboxSK)
	}
	if !slices.Contains(yamlStrings(m["FunctionResponseTypes"]), "ReportBatchItemFailures") {
		t.Errorf("%s: the mapping does not take batch item failures: one failed email would resend its whole batch", outboxFunction)
	}
	if yamlAt(m, "DestinationConfig", "OnFailure", "Destination") == nil {
		t.Errorf("%s: the mapping has no on-failure destination: mail given up on would leave no trace", outboxFunction)
	}
	queue, _ := yamlAt(m, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt").([]any)
	alarmed := false
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		for _, d := range yamlList(tpl.Resources[id].Properties["Dimensions"]) {
			if at, ok := yamlAt(d, "Value", "Fn::GetAtt").([]any); ok && len(queue) > 0 && len(at) > 0 && at[0] == queue[0] {
				alarmed = true
			}
		}
	}
	if !alarmed {
		t.Errorf("%s: no CloudWatch alarm watches the on-failure queue %v", outboxFunction, queue)
	}
	if n, ok := m["MaximumRetryAttempts"].(int); !ok || n < 1 {
		t.Errorf("%s: MaximumRetryAttempts %v, want a bound", outboxFunction, m["MaximumRetryAttempts"])
	}
	logs := false
	for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
		p := tpl.Resources[id].Properties
		if slices.Contains(yamlStrings(p["LogGroupName"]), "/aws/lambda/${"+outboxFunction+"}") && p["RetentionInDays"] != nil {
			logs = true
		}
	}
	if !logs {
		t.Errorf("%s has no log group with a retention", outboxFunction)
	}

	data, err := os.ReadFile(filepath.Join(templateRoot, "events", "outbox-insert.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != 1 || ev.Records[0].Change.Keys["sk"].String() != dynamo.OutboxSK {
		t.Fatal("events/outbox-insert.json is not the INSERT of an outbox item")
	}
	if _, ok := dynamostream.OutboxItemID(ev.Records[0]); !ok {
		t.Error("the outbox handler does not take the sample event's record")
	}
}

// The web function sends no email itself: it has no SES permission.
func TestTemplateWebFunctionCannotSendEmail(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	for _, s := range statementsIn(tpl.Resources[webFunction].Properties["Policies"], webFunction+".Policies") {
		for _, action := range yamlStrings(s.body["Action"]) {
			if len(action) > 4 && action[:4] == "ses:" && s.body["Effect"] == "Allow" {
				t.Errorf("%s allows %s: the web function's emails go through the outbox", s.where, action)
			}
		}
	}
}
