package app_test

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/dynamo"
)

func TestTemplateTableMatchesTableDefinition(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	tables := slices.DeleteFunc(tpl.ofType("AWS::DynamoDB::Table"), func(id string) bool { return id == auditTable })
	if len(tables) != 1 {
		t.Fatalf("template.yaml declares %d AWS::DynamoDB::Table resources %v besides %s; the design has one table", len(tables), tables, auditTable)
	}
	id := tables[0]
	props := tpl.Resources[id].Properties
	want := dynamo.TableDefinition("any")

	compare := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %s: template.yaml has %v, dynamo.TableDefinition has %v", id, what, got, want)
		}
	}
	compare("BillingMode", props["BillingMode"], string(want.BillingMode))
	compare("AttributeDefinitions", templateAttributes(props["AttributeDefinitions"]), definitionAttributes(want.AttributeDefinitions))
	compare("KeySchema", templateKeySchema(props["KeySchema"]), definitionKeySchema(want.KeySchema))
	compare("GlobalSecondaryIndexes", templateIndexes(props["GlobalSecondaryIndexes"]), definitionGSIs(want.GlobalSecondaryIndexes))
	compare("LocalSecondaryIndexes", templateIndexes(props["LocalSecondaryIndexes"]), definitionLSIs(want.LocalSecondaryIndexes))

	if got := yamlAt(props, "TimeToLiveSpecification", "AttributeName"); got != dynamo.TTLAttribute {
		t.Errorf("%s: TTL attribute is %v, the store writes expiry times to %q", id, got, dynamo.TTLAttribute)
	}
	if !yamlTrue(yamlAt(props, "TimeToLiveSpecification", "Enabled")) {
		t.Errorf("%s: TimeToLiveSpecification.Enabled is not true: expired sign-ups would never be deleted", id)
	}
	if !yamlTrue(yamlAt(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) {
		t.Errorf("%s: point-in-time recovery is not enabled", id)
	}
	if !yamlTrue(yamlAt(props, "SSESpecification", "SSEEnabled")) {
		t.Errorf("%s: SSESpecification.SSEEnabled is not true", id)
	}
	if tpl.Resources[id].DeletionPolicy != "Retain" {
		t.Errorf("%s: DeletionPolicy is %q, not Retain: deleting the stack would delete every member", id, tpl.Resources[id].DeletionPolicy)
	}
	for _, fn := range tpl.functions(t) {
		if got := yamlAt(tpl.environment(fn), "TABLE_NAME", "Ref"); got != id {
			t.Errorf("%s: TABLE_NAME is not Ref: %s", fn, id)
		}
	}
}

func TestTemplateAuditTableMatchesAuditTableDefinition(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	r, ok := tpl.Resources[auditTable]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		t.Fatalf("template.yaml has no AWS::DynamoDB::Table %s: the audit trail must be a table of its own", auditTable)
	}
	props := r.Properties
	want := dynamo.AuditTableDefinition("any")
	compare := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %s: template.yaml has %v, dynamo.AuditTableDefinition has %v", auditTable, what, got, want)
		}
	}
	compare("BillingMode", props["BillingMode"], string(want.BillingMode))
	compare("AttributeDefinitions", templateAttributes(props["AttributeDefinitions"]), definitionAttributes(want.AttributeDefinitions))
	compare("KeySchema", templateKeySchema(props["KeySchema"]), definitionKeySchema(want.KeySchema))
	compare("GlobalSecondaryIndexes", templateIndexes(props["GlobalSecondaryIndexes"]), definitionGSIs(want.GlobalSecondaryIndexes))
	compare("TableName", yamlStrings(props["TableName"]), []string{dynamo.AuditTableName("${Table}")})
	// Entries are kept six years (RETENTION_AUDIT_DAYS), then deleted by TTL.
	if got := yamlAt(props, "TimeToLiveSpecification", "AttributeName"); got != dynamo.TTLAttribute || !yamlTrue(yamlAt(props, "TimeToLiveSpecification", "Enabled")) {
		t.Errorf("%s: TimeToLiveSpecification is not enabled on %q (got %v)", auditTable, dynamo.TTLAttribute, got)
	}
	if !yamlTrue(yamlAt(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) {
		t.Errorf("%s: point-in-time recovery is not enabled", auditTable)
	}
	if !yamlTrue(yamlAt(props, "SSESpecification", "SSEEnabled")) {
		t.Errorf("%s: SSESpecification.SSEEnabled is not true", auditTable)
	}
	if r.DeletionPolicy != "Retain" {
		t.Errorf("%s: DeletionPolicy is %q, not Retain", auditTable, r.DeletionPolicy)
	}
}

// No function may change or delete an audit entry: the web function only adds
// entries (PutItem, inside the transaction of the change) and reads them (Query, and
// BatchGetItem of a person's entries for their export or erasure).
func TestTemplateNoFunctionCanChangeOrDeleteAuditEntries(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	if _, ok := tpl.Resources[auditTable]; !ok {
		t.Fatalf("template.yaml has no %s", auditTable)
	}
	webActions := map[string]bool{}
	for _, s := range tpl.statements() {
		if s.body["Effect"] != "Allow" || !namesResource(s.body["Resource"], auditTable) {
			continue
		}
		for _, action := range yamlStrings(s.body["Action"]) {
			for _, w := range auditWriters {
				if strings.EqualFold(action, w) {
					t.Errorf("%s allows %s on %s: an audit entry could be changed or deleted", s.where, action, auditTable)
				}
			}
			if strings.HasPrefix(s.where, webFunction+".") {
				webActions[action] = true
			}
		}
	}
	if want := []string{"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:Query"}; !slices.Equal(slices.Sorted(maps.Keys(webActions)), want) {
		t.Errorf("%s may do %v on %s, want exactly %v", webFunction, slices.Sorted(maps.Keys(webActions)), auditTable, want)
	}
}

// namesResource reports whether a policy's Resource refers to the resource with logical ID
// id (by Ref, Fn::GetAtt or inside Fn::Sub).
func namesResource(v any, id string) bool {
	for _, r := range yamlList(v) {
		switch {
		case yamlAt(r, "Ref") == id:
			return true
		case len(yamlList(yamlAt(r, "Fn::GetAtt"))) > 0 && yamlList(yamlAt(r, "Fn::GetAtt"))[0] == id:
			return true
		}
		for _, text := range yamlStrings(r) {
			if strings.Contains(text, "${"+id+"}") || strings.Contains(text, "${"+id+".") {
				return true
			}
		}
	}
	return false
}

func templateAttributes(v any) []string {
	var out []string
	for _, a := range yamlList(v) {
		out = append(out, fmt.Sprintf("%v:%v", yamlAt(a, "AttributeName"), yamlAt(a, "AttributeType")))
	}
	sort.Strings(out)
	return out
}

func definitionAttributes(defs []types.AttributeDefinition) []string {
	var out []string
	for _, a := range defs {
		out = append(out, fmt.Sprintf("%s:%s", aws.ToString(a.AttributeName), a.AttributeType))
	}
	sort.Strings(out)
	return out
}

func templateKeySchema(v any) []string {
	var out []string
	for _, k := range yamlList(v) {
		out = append(out, fmt.Sprintf("%v:%v", yamlAt(k, "AttributeName"), yamlAt(k, "KeyType")))
	}
	return out
}

func definitionKeySchema(keys []types.KeySchemaElement) []string {
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s:%s", aws.ToString(k.AttributeName), k.KeyType))
	}
	return out
}

// templateIndexes describes each index as "name keys projection non-key-attributes", sorted.
func templateIndexes(v any) []string {
	var out []string
	for _, ix := range yamlList(v) {
		out = append(out, fmt.Sprintf("%v %v %v %v", yamlAt(ix, "IndexName"), templateKeySchema(yamlAt(ix, "KeySchema")),
			yamlAt(ix, "Projection", "ProjectionType"), yamlStrings(yamlAt(ix, "Projection", "NonKeyAttributes"))))
	}
	sort.Strings(out)
	return out
}

func definitionGSIs(indexes []types.GlobalSecondaryIndex) []string {
	var out []string
	for _, ix := range indexes {
		out = append(out, definitionIndex(ix.IndexName, ix.KeySchema, ix.Projection))
	}
	sort.Strings(out)
	return out
}

func definitionLSIs(indexes []types.LocalSecondaryIndex) []string {
	var out []string
	for _, ix := range indexes {
		out = append(out, definitionIndex(ix.IndexName, ix.KeySchema, ix.Projection))
	}
	sort.Strings(out)
	return out
}

func definitionIndex(name *string, keys []types.KeySchemaElement, p *types.Projection) string {
	projection, nonKey := "<nil>", []string(nil)
	if p != nil {
		projection, nonKey = string(p.ProjectionType), p.NonKeyAttributes
	}
	return fmt.Sprintf("%s %v %s %v", aws.ToString(name), definitionKeySchema(keys), projection, nonKey)
}
