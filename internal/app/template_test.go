package app_test

// These tests read template.yaml (AWS SAM) and check it against the code, for the mistakes
// that nothing else notices before a deploy, or before the first request in AWS: a variable
// the code reads but the function is not given, a table whose keys differ from the ones the
// store queries, a function that sam build cannot build, an IAM wildcard, a public bucket.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/dynamostream"
)

// templateRoot is the repository root (template.yaml, Makefile, go.mod) seen from this package.
const templateRoot = "../.."

// webFunction is the logical ID of the function that serves the web pages.
const webFunction = "WebFunction"

const functionType = "AWS::Serverless::Function"

// samTemplate is the part of template.yaml these tests read.
type samTemplate struct {
	Globals struct {
		Function map[string]any `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]samResource `yaml:"Resources"`
}

type samResource struct {
	Type           string         `yaml:"Type"`
	Properties     map[string]any `yaml:"Properties"`
	Metadata       map[string]any `yaml:"Metadata"`
	DeletionPolicy string         `yaml:"DeletionPolicy"`
}

// policyStatement is one statement of an IAM or resource policy, with where it was found.
type policyStatement struct {
	where string
	body  map[string]any
}

// --- 1. sam build can build every function -------------------------------------------------

func TestTemplateFunctionsBuildFromTheirCodeUri(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	for _, id := range tpl.functions(t) {
		t.Run(id, func(t *testing.T) {
			pkg := functionPackage(t, tpl, id)
			if testing.Short() {
				t.Skip("skipping go build in -short mode")
			}
			// The same target as the Makefile's build-<LogicalId>: Lambda on arm64, no cgo.
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", os.DevNull, pkg)
			cmd.Dir = templateRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: go build %s for linux/arm64 failed: %v\n%s", id, pkg, err, out)
			}
		})
	}
}

func TestTemplateDeclaresEveryFunctionDirectory(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	declared := map[string]string{} // package -> logical ID
	for _, id := range tpl.functions(t) {
		declared[functionPackage(t, tpl, id)] = id
	}
	dirs, err := filepath.Glob(filepath.Join(templateRoot, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("found no functions/*/main.go: is templateRoot right?")
	}
	for _, mainFile := range dirs {
		pkg := "./functions/" + filepath.Base(filepath.Dir(mainFile))
		if _, ok := declared[pkg]; !ok {
			t.Errorf("%s has a main.go but no %s in template.yaml builds it, so it is never deployed", pkg, functionType)
		}
	}
}

// functionPackage checks how sam build builds function id and returns the Go package it builds
// (like "./functions/web"). With BuildMethod makefile, sam build runs `make build-<id>` in
// CodeUri and deploys $(ARTIFACTS_DIR)/bootstrap; with go1.x it builds CodeUri itself.
func functionPackage(t *testing.T, tpl samTemplate, id string) string {
	t.Helper()
	codeURI, _ := tpl.functionProperty(id, "CodeUri").(string)
	if codeURI == "" {
		t.Fatalf("%s has no CodeUri: sam build needs a directory of this repository", id)
	}
	dir := filepath.Join(templateRoot, filepath.FromSlash(codeURI))
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		t.Fatalf("%s: CodeUri %q is not a directory relative to the repository root", id, codeURI)
	}
	switch method := yamlAt(tpl.Resources[id].Metadata, "BuildMethod"); method {
	case "makefile":
		recipe := makeRecipe(t, filepath.Join(dir, "Makefile"), "build-"+id)
		if !strings.Contains(recipe, "$(ARTIFACTS_DIR)/bootstrap") {
			t.Fatalf("%s: the Makefile target build-%s does not write $(ARTIFACTS_DIR)/bootstrap, so sam build would package no handler:\n%s", id, id, recipe)
		}
		pkg := regexp.MustCompile(`\./functions/[A-Za-z0-9_-]+`).FindString(recipe)
		if pkg == "" {
			t.Fatalf("%s: the Makefile target build-%s builds no ./functions/<name> package:\n%s", id, id, recipe)
		}
		return pkg
	case "go1.x":
		return "./" + filepath.ToSlash(filepath.Clean(codeURI))
	default:
		t.Fatalf("%s: Metadata.BuildMethod is %v; a provided.al2023 function needs makefile (or go1.x), or sam build packages no binary", id, method)
		return ""
	}
}

// makeRecipe returns the recipe lines of target in the Makefile at path, failing if the
// target is missing.
func makeRecipe(t *testing.T, path, target string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("BuildMethod makefile needs a Makefile in CodeUri: %v", err)
	}
	var recipe []string
	inTarget := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, target+":"):
			inTarget = true
		case inTarget && strings.HasPrefix(line, "\t"):
			recipe = append(recipe, strings.TrimSpace(line))
		case inTarget:
			inTarget = false
		}
	}
	if recipe == nil {
		t.Fatalf("%s has no target %q with a recipe: sam build runs `make %s`", path, target, target)
	}
	return strings.Join(recipe, "\n")
}

// --- 2. every function gets exactly the variables the code reads ---------------------------

func TestTemplateSetsExactlyTheVariablesTheCodeReads(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	read := map[string]bool{}
	for _, v := range app.Vars {
		read[v.Name] = true
	}
	for _, id := range tpl.functions(t) {
		env := tpl.environment(id)
		for _, v := range app.Vars {
			value, ok := env[v.Name]
			switch {
			case !ok:
				t.Errorf("%s does not set %s (%s)", id, v.Name, v.Help)
			case v.Require && (value == nil || value == ""):
				t.Errorf("%s sets the required %s to nothing", id, v.Name)
			}
		}
		for _, name := range yamlKeys(env) {
			if !read[name] {
				t.Errorf("%s sets %s, which app.Vars does not list: the code does not read it (add it to app.Vars when it does)", id, name)
			}
		}
	}
}

// --- 3. least privilege ----------------------------------------------------------------------

// Allow statements must name their actions and resources. Deny statements may use
// wildcards (like the buckets' "deny s3:* without TLS"): a wider Deny only takes access away.
func TestTemplatePoliciesAllowNoWildcards(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	for _, id := range tpl.functions(t) {
		for i, p := range yamlList(tpl.Resources[id].Properties["Policies"]) {
			if m, ok := p.(map[string]any); !ok || m["Statement"] == nil {
				t.Errorf("%s: Policies[%d] is a managed policy or a SAM policy template (%v); write explicit statements so that this test can read them", id, i, p)
			}
		}
	}
	statements := tpl.statements()
	if len(statements) == 0 {
		t.Fatal("found no policy statements in template.yaml")
	}
	for _, s := range statements {
		if s.body["Effect"] != "Allow" {
			continue
		}
		if s.body["NotAction"] != nil || s.body["NotResource"] != nil {
			t.Errorf("%s: an Allow with NotAction or NotResource allows everything else", s.where)
		}
		for _, action := range yamlStrings(s.body["Action"]) {
			if strings.Contains(action, "*") {
				t.Errorf("%s: Action %q is a wildcard; list the actions", s.where, action)
			}
		}
		if slices.Contains(yamlStrings(s.body["Resource"]), "*") && !onlyUnscopable(yamlStrings(s.body["Action"])) {
			t.Errorf("%s: Resource \"*\"; name the resources", s.where)
		}
		if slices.Contains(yamlStrings(s.body["Principal"]), "*") || yamlAt(s.body, "Principal", "AWS") == "*" {
			t.Errorf("%s: Allow to Principal \"*\" makes the resource public", s.where)
		}
	}
}

// unscopable lists the actions IAM accepts only on Resource "*": they name no resource.
var unscopable = []string{"ses:GetAccount"}

// onlyUnscopable reports whether every action is one IAM cannot scope to a resource.
func onlyUnscopable(actions []string) bool {
	for _, a := range actions {
		if !slices.Contains(unscopable, a) {
			return false
		}
	}
	return len(actions) > 0
}

func TestTemplateWebFunctionCannotScan(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	if tpl.Resources[webFunction].Type != functionType {
		t.Fatalf("template.yaml has no %s %s", functionType, webFunction)
	}
	for _, s := range statementsIn(tpl.Resources[webFunction].Properties["Policies"], webFunction+".Policies") {
		for _, action := range yamlStrings(s.body["Action"]) {
			if strings.EqualFold(action, "dynamodb:Scan") && s.body["Effect"] == "Allow" {
				t.Errorf("%s allows dynamodb:Scan: no request may scan the table (use a Query on a key or an index)", s.where)
			}
		}
	}
}

// --- 4. buckets ------------------------------------------------------------------------------

func TestTemplateBucketsArePrivateEncryptedAndKept(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	buckets := tpl.ofType("AWS::S3::Bucket")
	if len(buckets) == 0 {
		t.Fatal("template.yaml declares no AWS::S3::Bucket")
	}
	for _, id := range buckets {
		props := tpl.Resources[id].Properties
		for _, flag := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if !yamlTrue(yamlAt(props, "PublicAccessBlockConfiguration", flag)) {
				t.Errorf("%s: PublicAccessBlockConfiguration.%s is not true", id, flag)
			}
		}
		rules := yamlList(yamlAt(props, "BucketEncryption", "ServerSideEncryptionConfiguration"))
		if len(rules) == 0 || yamlAt(rules[0], "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
			t.Errorf("%s has no BucketEncryption with an SSEAlgorithm", id)
		}
		if tpl.Resources[id].DeletionPolicy != "Retain" {
			t.Errorf("%s: DeletionPolicy is %q, not Retain: deleting the stack would delete its objects", id, tpl.Resources[id].DeletionPolicy)
		}
		if !tpl.bucketDeniesInsecureTransport(id) {
			t.Errorf("%s has no AWS::S3::BucketPolicy that denies requests without TLS (aws:SecureTransport false)", id)
		}
	}
}

// bucketDeniesInsecureTransport reports whether a bucket policy on bucket id denies requests
// whose aws:SecureTransport is false.
func (tpl samTemplate) bucketDeniesInsecureTransport(id string) bool {
	for _, policyID := range tpl.ofType("AWS::S3::BucketPolicy") {
		props := tpl.Resources[policyID].Properties
		if yamlAt(props, "Bucket", "Ref") != id {
			continue
		}
		for _, s := range statementsIn(props["PolicyDocument"], policyID) {
			secure := yamlAt(s.body, "Condition", "Bool", "aws:SecureTransport")
			if s.body["Effect"] == "Deny" && (secure == false || secure == "false") {
				return true
			}
		}
	}
	return false
}

// --- 5. the table is the one the store expects ---------------------------------------------

// auditTable is the logical ID of the audit table; the other table is the one table of
// the design.
const auditTable = "AuditTable"

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

// --- 5b. the audit trail cannot be changed by the web function ---------------------------

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
	if props["TimeToLiveSpecification"] != nil {
		t.Errorf("%s has a TTL: audit entries are kept", auditTable)
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

// auditWriters are the actions that could change or delete an item once written.
var auditWriters = []string{"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:RestoreTableToPointInTime", "dynamodb:ImportTable"}

// No function may change or delete an audit entry: the web function only adds
// entries (PutItem, inside the transaction of the change) and reads them (Query).
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
	if want := []string{"dynamodb:PutItem", "dynamodb:Query"}; !slices.Equal(slices.Sorted(maps.Keys(webActions)), want) {
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

// The table's keys and indexes as sorted or ordered strings, from either side.

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

// --- 6. runtime --------------------------------------------------------------------------------

func TestTemplateFunctionsRunBootstrapOnAL2023Arm64(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	for _, id := range tpl.functions(t) {
		if got := tpl.functionProperty(id, "Runtime"); got != "provided.al2023" {
			t.Errorf("%s: Runtime is %v, want provided.al2023 (the Go binary is the bootstrap of an OS-only runtime)", id, got)
		}
		if got := yamlStrings(tpl.functionProperty(id, "Architectures")); !slices.Equal(got, []string{"arm64"}) {
			t.Errorf("%s: Architectures is %v, want [arm64]: the Makefile builds for GOARCH=arm64", id, got)
		}
		if got := tpl.functionProperty(id, "Handler"); got != "bootstrap" {
			t.Errorf("%s: Handler is %v, want bootstrap (the name of the built binary)", id, got)
		}
	}
}

// --- 7. logs are kept, and not for ever --------------------------------------------------------

// Every function has its log group declared, with a retention: otherwise Lambda creates
// one on first use that keeps logs for ever and that the stack neither owns nor deletes.
func TestTemplateEveryFunctionHasALogGroupWithRetention(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	groups := map[string]string{} // function logical ID -> log group logical ID
	for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
		props := tpl.Resources[id].Properties
		for _, name := range yamlStrings(props["LogGroupName"]) {
			fn, ok := strings.CutPrefix(name, "/aws/lambda/${")
			if !ok || !strings.HasSuffix(fn, "}") {
				continue
			}
			fn = strings.TrimSuffix(fn, "}")
			groups[fn] = id
			days, _ := props["RetentionInDays"].(int)
			if days <= 0 {
				t.Errorf("%s (the logs of %s) has no RetentionInDays: its logs would be kept for ever", id, fn)
			}
		}
	}
	for _, fn := range tpl.functions(t) {
		if _, ok := groups[fn]; !ok {
			t.Errorf("%s has no AWS::Logs::LogGroup named /aws/lambda/${%s} with a RetentionInDays: Lambda would create one that keeps its logs for ever", fn, fn)
		}
		if lg := yamlAt(tpl.functionProperty(fn, "LoggingConfig"), "LogGroup"); lg != nil {
			t.Errorf("%s sends its logs to %v, not to the log group this test checks", fn, lg)
		}
	}
}

// --- 8. a round never stops silently -------------------------------------------------------

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

// --- reading the template ----------------------------------------------------------------------

// loadTemplate parses template.yaml, refusing short-form intrinsics (!Ref, !Sub ...), which
// plain YAML would read as something else than CloudFormation does.
func loadTemplate(t *testing.T) samTemplate {
	t.Helper()
	path := filepath.Join(templateRoot, "template.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not YAML: %v", path, err)
	}
	if tagged := shortFormTags(&doc); len(tagged) > 0 {
		t.Fatalf("%s uses short-form intrinsics (write Ref:, Fn::Sub: ... instead): %s", path, strings.Join(tagged, ", "))
	}
	var tpl samTemplate
	if err := doc.Decode(&tpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tpl
}

// shortFormTags lists "line N: !Tag" for every node tagged with a local tag like !Ref.
func shortFormTags(n *yaml.Node) []string {
	var out []string
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		out = append(out, fmt.Sprintf("line %d: %s", n.Line, n.Tag))
	}
	for _, c := range n.Content {
		out = append(out, shortFormTags(c)...)
	}
	return out
}

// ofType returns the logical IDs of the resources of type typ, sorted.
func (tpl samTemplate) ofType(typ string) []string {
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// functions returns the logical IDs of the template's functions, failing if there are none.
func (tpl samTemplate) functions(t *testing.T) []string {
	t.Helper()
	ids := tpl.ofType(functionType)
	if len(ids) == 0 {
		t.Fatalf("template.yaml declares no %s", functionType)
	}
	return ids
}

// functionProperty is the function's own property, or else the one in Globals.Function.
func (tpl samTemplate) functionProperty(id, name string) any {
	if v, ok := tpl.Resources[id].Properties[name]; ok {
		return v
	}
	return tpl.Globals.Function[name]
}

// environment merges the function's environment variables over those in Globals, as SAM does.
func (tpl samTemplate) environment(id string) map[string]any {
	env := map[string]any{}
	for _, vars := range []any{
		yamlAt(tpl.Globals.Function, "Environment", "Variables"),
		yamlAt(tpl.Resources[id].Properties, "Environment", "Variables"),
	} {
		if m, ok := vars.(map[string]any); ok {
			for k, v := range m {
				env[k] = v
			}
		}
	}
	return env
}

// statements returns every policy statement anywhere in the resources: function Policies,
// IAM roles and policies, bucket policies.
func (tpl samTemplate) statements() []policyStatement {
	var out []policyStatement
	for _, id := range slices.Sorted(maps.Keys(tpl.Resources)) {
		out = append(out, statementsIn(tpl.Resources[id].Properties, id)...)
	}
	return out
}

// statementsIn finds the statements of every policy document under v.
func statementsIn(v any, where string) []policyStatement {
	var out []policyStatement
	switch v := v.(type) {
	case map[string]any:
		if stmts, ok := v["Statement"]; ok {
			for i, s := range yamlList(stmts) {
				if body, ok := s.(map[string]any); ok {
					name := fmt.Sprintf("%s statement %d", where, i)
					if sid, ok := body["Sid"].(string); ok {
						name = fmt.Sprintf("%s statement %s", where, sid)
					}
					out = append(out, policyStatement{where: name, body: body})
				}
			}
			return out
		}
		for _, k := range yamlKeys(v) {
			out = append(out, statementsIn(v[k], where+"."+k)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, statementsIn(e, fmt.Sprintf("%s[%d]", where, i))...)
		}
	}
	return out
}

// yamlAt follows keys through nested maps, returning nil where one is missing.
func yamlAt(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// yamlList returns v as a list: a single value stands for a list of one.
func yamlList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// yamlStrings returns the strings of a value or list of values, including the text of
// Fn::Sub, so that "*" is found however it is written.
func yamlStrings(v any) []string {
	var out []string
	for _, e := range yamlList(v) {
		switch e := e.(type) {
		case string:
			out = append(out, e)
		case map[string]any:
			sub := e["Fn::Sub"]
			if list, ok := sub.([]any); ok && len(list) > 0 {
				sub = list[0] // the long form: [text, variables]
			}
			if s, ok := sub.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// yamlTrue accepts true written as a YAML boolean or as the string CloudFormation also accepts.
func yamlTrue(v any) bool {
	return v == true || v == "true" || v == "True"
}

func yamlKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
