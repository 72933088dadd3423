package app_test

import (
	"slices"
	"strings"
	"testing"
)

// SES receiving: one rule for the admin address (and the groups' domain), the raw
// message stored by the S3 action, then the inbound function invoked; the rule waits
// for the bucket policy and the Lambda permission, which SES checks when it is made.
// Only the inbound function reads received mail, and only under inbound/.
func TestTemplateReceivesMailIntoAPrivateBucketForTheInboundFunctionOnly(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	rule := tpl.Resources["ReceiptRule"]
	for _, dep := range []string{"ReceivingBucketPolicy", "InboundFunctionSESPermission"} {
		if !strings.Contains(strings.Join(yamlStrings(rule.DependsOn), " "), dep) {
			t.Errorf("ReceiptRule does not depend on %s: SES checks it when the rule is created", dep)
		}
	}
	actions := yamlList(yamlAt(rule.Properties, "Rule", "Actions"))
	if len(actions) != 2 || yamlAt(actions[0], "S3Action", "ObjectKeyPrefix") != "inbound/" || yamlAt(actions[1], "LambdaAction", "InvocationType") != "Event" {
		t.Errorf("receipt rule actions %v: want the S3 action (inbound/) then the Lambda action (Event)", actions)
	}
	if yamlAt(rule.Properties, "Rule", "TlsPolicy") != "Optional" || yamlAt(rule.Properties, "Rule", "ScanEnabled") != true {
		t.Error("the rule must scan for spam and viruses, and leave TLS optional")
	}
	if env := tpl.environment("InboundFunction"); env["RECEIVING_PREFIX"] != "inbound/" || yamlAt(env["RECEIVING_BUCKET"], "Ref") != "ReceivingBucket" {
		t.Errorf("InboundFunction's environment: %v", env)
	}
	found := false
	for _, id := range tpl.functions(t) {
		for _, s := range statementsIn(tpl.Resources[id].Properties["Policies"], id+".Policies") {
			resources := strings.Join(yamlStrings(s.body["Resource"]), " ")
			if !strings.Contains(resources, "ReceivingBucket") {
				continue
			}
			actions := yamlStrings(s.body["Action"])
			switch {
			case id == "InboundFunction" && resources == "${ReceivingBucket.Arn}/inbound/*" && slices.Equal(actions, []string{"s3:GetObject"}):
				found = true
			case id == "InboundFunction" && resources == "${ReceivingBucket.Arn}/inbound/attachments/*" && slices.Equal(actions, []string{"s3:PutObject"}):
				// it stores the attachments apart
			case id == "WebFunction" && resources == "${ReceivingBucket.Arn}/inbound/attachments/*" && slices.Equal(actions, []string{"s3:GetObject"}):
				// the console presigns downloads of the attachments, not of the raw mail
			case id == "WebFunction" && resources == "${ReceivingBucket.Arn}/inbound/*" && slices.Equal(actions, []string{"s3:DeleteObject"}):
				// an erasure deletes the person's messages and attachments, without reading them
			default:
				t.Errorf("%s: %v on %s; only the inbound function reads received mail (s3:GetObject on inbound/*) and stores its attachments (s3:PutObject on inbound/attachments/*), and the web function only links to those (s3:GetObject) and deletes an erased person's (s3:DeleteObject on inbound/*)", s.where, actions, resources)
			}
		}
	}
	if !found {
		t.Error("the inbound function cannot read received mail")
	}
	sesAllowed := false
	for _, st := range yamlList(yamlAt(tpl.Resources["ReceivingBucketPolicy"].Properties, "PolicyDocument", "Statement")) {
		if yamlAt(st, "Principal", "Service") == "ses.amazonaws.com" {
			sesAllowed = yamlAt(st, "Action") == "s3:PutObject" && yamlAt(st, "Condition", "StringEquals", "aws:SourceAccount") != nil
		}
	}
	if !sesAllowed {
		t.Error("ReceivingBucketPolicy must let SES put objects, for this account only (aws:SourceAccount)")
	}
	if tpl.Resources["InboundFunction"].Properties["EventInvokeConfig"] == nil {
		t.Error("InboundFunction has no failure destination: a message it gives up on would be lost without a trace")
	}
}
