package app_test

import (
	"slices"
	"strings"
	"testing"
)

// The kits bucket is private, encrypted and TLS only (TestTemplateBucketsArePrivate...),
// versioned with old versions kept 30 days, and only the web function reads and writes
// kit revisions in it: GetObject and PutObject on kits/objects/* and kits/html/*
// (their sections as HTML), and on blobs/* and uploads/* (kits' files, uploaded by a
// presigned POST); GetObject, PutObject and AbortMultipartUpload on kits/zips/* (the
// kits' zips, written in parts); DeleteObject on uploads/* only; nothing else. Uploads
// never finished expire after a day, zips after a few days.
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
	uploadsExpire := false
	for _, rule := range yamlList(yamlAt(props, "LifecycleConfiguration", "Rules")) {
		if days, ok := yamlAt(rule, "ExpirationInDays").(int); ok && days == 1 && yamlAt(rule, "Prefix") == "uploads/" && yamlAt(rule, "Status") == "Enabled" {
			uploadsExpire = true
		}
	}
	if !uploadsExpire {
		t.Error("KitsBucket keeps uploads that were never finished: expire uploads/ after a day")
	}
	zipsExpire := false
	for _, rule := range yamlList(yamlAt(props, "LifecycleConfiguration", "Rules")) {
		if days, ok := yamlAt(rule, "ExpirationInDays").(int); ok && days >= 1 && days <= 7 && yamlAt(rule, "Prefix") == "kits/zips/" && yamlAt(rule, "Status") == "Enabled" {
			zipsExpire = true
		}
	}
	if !zipsExpire {
		t.Error("KitsBucket keeps kits' zips for ever: expire kits/zips/ after a few days (they are made again when asked for)")
	}
	// What the web function may do in the bucket: exactly these, by resources.
	allowed := map[string][]string{
		"${KitsBucket.Arn}/kits/objects/* ${KitsBucket.Arn}/kits/html/*": {"s3:GetObject", "s3:PutObject"},
		"${KitsBucket.Arn}/blobs/* ${KitsBucket.Arn}/uploads/*":          {"s3:GetObject", "s3:PutObject"},
		"${KitsBucket.Arn}/uploads/*":                                    {"s3:DeleteObject"},
		"${KitsBucket.Arn}/kits/zips/*":                                  {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"},
	}
	granted := map[string]bool{}
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
			want, ok := allowed[strings.Join(resources, " ")]
			if !ok {
				t.Errorf("%s: s3 actions on %v, which the kits do not need", s.where, resources)
				continue
			}
			actions := yamlStrings(s.body["Action"])
			slices.Sort(actions)
			if !slices.Equal(actions, want) {
				t.Errorf("%s: %v on %v; the kits need only %v there", s.where, actions, resources, want)
			}
			granted[strings.Join(resources, " ")] = true
			found = true
		}
	}
	if !found {
		t.Errorf("%s may not read or write kit revisions", webFunction)
	}
	for resources, actions := range allowed {
		if !granted[resources] {
			t.Errorf("%s is not allowed %v on %s", webFunction, actions, resources)
		}
	}
	if v, ok := tpl.environment(webFunction)["KITS_UPLOAD_URL"]; !ok || v != "" {
		t.Errorf("%s: KITS_UPLOAD_URL is %v, want \"\" (uploads go to the bucket itself)", webFunction, v)
	}
}
