package app_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// templateRoot is the repository root (template.yaml, Makefile, go.mod) seen from this package.
const templateRoot = "../.."

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
	DependsOn      any            `yaml:"DependsOn"`
}

// policyStatement is one statement of an IAM or resource policy, with where it was found.
type policyStatement struct {
	where string
	body  map[string]any
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
