package app_test

import (
	"slices"
	"strings"
	"testing"
)

// The kits bucket is private, encrypted and TLS only (TestTemplateBucketsArePrivate...),
// versioned with old versions kept 30 days, and only the web function reads and writes
// kit revisions in it: GetObject and PutObject on kits/objects/* and kits/html/*
// (their sections as HTML), nothing else.
func TestTemplateKitsAreReadAndWrittenByTheWebFunctionOnly(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	props := tpl.Resources["KitsBucket"].Properties
	if yamlAt(props, "VersioningConfiguration", "Status") != "Enabled" {
		t.Error("KitsBucket is not versioned")
	}
	expires := false
	for _, rule := range yamlList(yamlAt(props, "LifecycleConfiguration", "Rules")) {
		if days, ok := yamlAt(rule, "NoncurrentVersionExpiration", "NoncurrentDays").(int); ok && days == 30 && yamlAt(rule, "Status") == "Enabled" {
			expires = true
		}
	}
	if !expires {
		t.Error("KitsBucket keeps noncurrent versions for ever: expire them after 30 days")
	}
	if env := tpl.environment(webFunction); yamlAt(env["KITS_BUCKET"], "Ref") != "KitsBucket" {
		t.Errorf("%s: KITS_BUCKET is %v, want Ref KitsBucket", webFunction, env["KITS_BUCKET"])
	}
	found := false
	for _, id := range tpl.functions(t) {
		for _, s := range statementsIn(tpl.Resources[id].Properties["Policies"], id+".Policies") {
			resources := yamlStrings(s.body["Resource"])
			if !strings.Contains(strings.Join(resources, " "), "KitsBucket") {
				continue
			}
			if id != webFunction {
				t.Errorf("%s: %v; only the web function uses the kits bucket", s.where, resources)
				continue
			}
			if want := []string{"${KitsBucket.Arn}/kits/objects/*", "${KitsBucket.Arn}/kits/html/*"}; !slices.Equal(resources, want) {
				t.Errorf("%s: s3 actions on %v, want only %v", s.where, resources, want)
			}
			actions := yamlStrings(s.body["Action"])
			slices.Sort(actions)
			if !slices.Equal(actions, []string{"s3:GetObject", "s3:PutObject"}) {
				t.Errorf("%s: %v; the kits need only s3:GetObject and s3:PutObject", s.where, actions)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("%s may not read or write kit revisions", webFunction)
	}
}
