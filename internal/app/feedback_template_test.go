package app_test

import (
	"slices"
	"strings"
	"testing"
)

// Delivery feedback: the configuration set publishes every event type the function
// reads to the default EventBridge bus; a rule on this configuration set's events
// invokes the feedback function, with retries and a dead-letter queue, an archive
// keeps the events for replay, the queue is alarmed on, and the function may do only
// what applying an event needs (no Scan, no mail, no S3).
func TestTemplatePublishesSESEventsToTheFeedbackFunction(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	dest := tpl.Resources["FeedbackEventDestination"]
	if dest.Type != "AWS::SES::ConfigurationSetEventDestination" || yamlAt(dest.Properties, "ConfigurationSetName", "Ref") != "ConfigurationSet" {
		t.Fatalf("FeedbackEventDestination: %s on %v, want the configuration set's event destination", dest.Type, dest.Properties["ConfigurationSetName"])
	}
	types := yamlStrings(yamlAt(dest.Properties, "EventDestination", "MatchingEventTypes"))
	for _, want := range []string{"SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY"} {
		if !slices.Contains(types, want) {
			t.Errorf("the event destination does not publish %s", want)
		}
	}
	bus := strings.Join(yamlStrings(yamlAt(dest.Properties, "EventDestination", "EventBridgeDestination", "EventBusArn")), "")
	if !strings.HasSuffix(bus, ":event-bus/default") || !yamlTrue(yamlAt(dest.Properties, "EventDestination", "Enabled")) {
		t.Errorf("SES publishes only to the default bus, enabled: got %q", bus)
	}

	rule := tpl.Resources["FeedbackRule"]
	pattern := rule.Properties["EventPattern"]
	if !slices.Equal(yamlStrings(yamlAt(pattern, "source")), []string{"aws.ses"}) ||
		yamlAt(firstOf(yamlAt(pattern, "detail", "mail", "tags", "ses:configuration-set")), "Ref") != "ConfigurationSet" {
		t.Errorf("the rule's pattern %v does not keep to this configuration set's SES events", pattern)
	}
	for _, dt := range []string{"Email Sent", "Email Delivered", "Email Delivery Delayed", "Email Bounced", "Email Complaint Received", "Email Rejected"} {
		if !slices.Contains(yamlStrings(yamlAt(pattern, "detail-type")), dt) {
			t.Errorf("the rule misses %q", dt)
		}
	}
	targets := yamlList(rule.Properties["Targets"])
	if len(targets) != 1 {
		t.Fatalf("the rule has %d targets, want the feedback function", len(targets))
	}
	target := targets[0]
	if firstOf(yamlAt(target, "Arn", "Fn::GetAtt")) != "FeedbackFunction" {
		t.Errorf("the rule's target is %v", yamlAt(target, "Arn"))
	}
	if yamlAt(target, "RetryPolicy", "MaximumRetryAttempts") == nil || firstOf(yamlAt(target, "DeadLetterConfig", "Arn", "Fn::GetAtt")) != "FeedbackFailureQueue" {
		t.Errorf("the rule's target needs a retry policy and FeedbackFailureQueue as dead-letter queue: %v", target)
	}
	perm := tpl.Resources["FeedbackFunctionEventsPermission"].Properties
	if perm["Principal"] != "events.amazonaws.com" || firstOf(yamlAt(perm, "SourceArn", "Fn::GetAtt")) != "FeedbackRule" {
		t.Errorf("EventBridge may invoke the function only from the rule: %v", perm)
	}
	queuePolicy := statementsIn(tpl.Resources["FeedbackFailureQueuePolicy"].Properties["PolicyDocument"], "FeedbackFailureQueuePolicy")
	if len(queuePolicy) != 1 || yamlAt(queuePolicy[0].body, "Principal", "Service") != "events.amazonaws.com" ||
		firstOf(yamlAt(queuePolicy[0].body, "Condition", "ArnEquals", "aws:SourceArn", "Fn::GetAtt")) != "FeedbackRule" {
		t.Errorf("the dead-letter queue takes messages from the rule only: %v", queuePolicy)
	}

	archive := tpl.Resources["FeedbackArchive"]
	if archive.Type != "AWS::Events::Archive" || !strings.HasSuffix(strings.Join(yamlStrings(archive.Properties["SourceArn"]), ""), ":event-bus/default") ||
		archive.Properties["RetentionDays"] == nil || yamlAt(archive.Properties, "EventPattern", "detail", "mail", "tags", "ses:configuration-set") == nil {
		t.Errorf("FeedbackArchive must keep this configuration set's events from the default bus, for a set time: %v", archive)
	}

	fn := tpl.Resources["FeedbackFunction"].Properties
	if firstOf(yamlAt(fn, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt")) != "FeedbackFailureQueue" {
		t.Error("FeedbackFunction has no failure destination: an event it gives up on would be lost")
	}
	for _, s := range statementsIn(fn["Policies"], "FeedbackFunction.Policies") {
		for _, a := range yamlStrings(s.body["Action"]) {
			if !slices.Contains([]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "sqs:SendMessage"}, a) {
				t.Errorf("%s allows %s, which applying an event does not need", s.where, a)
			}
		}
	}
	alarmed := false
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		p := tpl.Resources[id].Properties
		for _, d := range yamlList(p["Dimensions"]) {
			if firstOf(yamlAt(d, "Value", "Fn::GetAtt")) == "FeedbackFailureQueue" && len(yamlList(p["AlarmActions"])) > 0 {
				alarmed = true
			}
		}
	}
	if !alarmed {
		t.Error("nothing alarms when FeedbackFailureQueue receives an event")
	}
}

// firstOf is the first of a value or list of values, or nil.
func firstOf(v any) any {
	if l := yamlList(v); len(l) > 0 {
		return l[0]
	}
	return nil
}
