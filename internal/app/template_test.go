package app_test

// These tests read template.yaml (AWS SAM) and check it against the code, for the mistakes
// that nothing else notices before a deploy, or before the first request in AWS: a variable
// the code reads but the function is not given, a table whose keys differ from the ones the
// store queries, a function that sam build cannot build, an IAM wildcard, a public bucket.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/app"
)

// webFunction is the logical ID of the function that serves the web pages.
const webFunction = "WebFunction"

const functionType = "AWS::Serverless::Function"

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

// readsNoConfiguration are the functions whose code reads no variable: the render
// function, which only turns Markdown into HTML.
var readsNoConfiguration = map[string]bool{"RenderFunction": true}

func TestTemplateSetsExactlyTheVariablesTheCodeReads(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	read := map[string]bool{}
	for _, v := range app.Vars {
		read[v.Name] = true
	}
	for _, id := range tpl.functions(t) {
		env := tpl.environment(id)
		if readsNoConfiguration[id] {
			for _, secret := range []string{"LINK_KEY", "LINK_KEY_PREVIOUS"} {
				if v, _ := env[secret].(string); v != "" {
					t.Errorf("%s reads no configuration, yet is given the secret %s: set it to \"\" in its Environment", id, secret)
				}
			}
			continue
		}
		for _, v := range app.Vars {
			value, ok := env[v.Name]
			switch {
			case ok && v.Only != "" && !slices.Contains(strings.Fields(v.Only), id):
				t.Errorf("%s sets %s, which only %s reads", id, v.Name, v.Only)
			case !ok && v.Only != "" && !slices.Contains(strings.Fields(v.Only), id):
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

// --- 5. the table is the one the store expects ---------------------------------------------

// auditTable is the logical ID of the audit table; the other table is the one table of
// the design.
const auditTable = "AuditTable"

// --- 5b. the audit trail cannot be changed by the web function ---------------------------

// auditWriters are the actions that could change or delete an item once written.
var auditWriters = []string{"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:RestoreTableToPointInTime", "dynamodb:ImportTable"}

// The table's keys and indexes as sorted or ordered strings, from either side.

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

// --- reading the template ----------------------------------------------------------------------
