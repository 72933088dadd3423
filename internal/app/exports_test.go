package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/app"
)

// The members CSV goes through the exports bucket: the web function may write and read
// (for the presigned link) only under members/ in that bucket, no other function may
// touch it, and exports do not outlive a day.
func TestTemplateExportsAreWrittenByTheWebFunctionOnlyAndExpire(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	if tpl.Resources["ExportsBucket"].Type != "AWS::S3::Bucket" {
		t.Fatal("template.yaml has no ExportsBucket")
	}
	if env := tpl.environment(webFunction); yamlAt(env["EXPORTS_BUCKET"], "Ref") != "ExportsBucket" {
		t.Errorf("%s: EXPORTS_BUCKET is %v, want Ref ExportsBucket", webFunction, env["EXPORTS_BUCKET"])
	}
	found := false
	for _, id := range tpl.functions(t) {
		for _, s := range statementsIn(tpl.Resources[id].Properties["Policies"], id+".Policies") {
			resource := strings.Join(yamlStrings(s.body["Resource"]), " ")
			touchesExports := strings.Contains(resource, "ExportsBucket")
			if strings.Contains(resource, "KitsBucket") || strings.Contains(resource, "ReceivingBucket") {
				continue // the kits' and the inbound mail's own statements (kits_template_test.go, mailin_template_test.go)
			}
			var s3Actions []string
			for _, a := range yamlStrings(s.body["Action"]) {
				if strings.HasPrefix(a, "s3:") {
					s3Actions = append(s3Actions, a)
				}
			}
			if len(s3Actions) == 0 && !touchesExports {
				continue
			}
			if id != webFunction {
				t.Errorf("%s: %v on %v; only the web function uses the exports bucket", s.where, s3Actions, resource)
				continue
			}
			if resource == "${ExportsBucket.Arn}" {
				// An erasure lists the members CSVs to delete those that list the person:
				// members/ only.
				if !slices.Equal(s3Actions, []string{"s3:ListBucket"}) || yamlAt(s.body, "Condition", "StringLike", "s3:prefix") != "members/*" {
					t.Errorf("%s: %v on the bucket (condition %v), want only s3:ListBucket of the prefix members/*", s.where, s3Actions, s.body["Condition"])
				}
				continue
			}
			if resource != "${ExportsBucket.Arn}/members/*" {
				t.Errorf("%s: s3 actions on %v, want only ${ExportsBucket.Arn}/members/*", s.where, resource)
			}
			for _, a := range s3Actions {
				if a != "s3:PutObject" && a != "s3:GetObject" && a != "s3:DeleteObject" {
					t.Errorf("%s: %s; the web function needs only s3:PutObject, s3:GetObject and (for an erasure) s3:DeleteObject", s.where, a)
				}
			}
			found = found || slices.Contains(s3Actions, "s3:PutObject")
		}
	}
	if !found {
		t.Errorf("%s may not write the members CSV to the exports bucket", webFunction)
	}
	expires := false
	for _, rule := range yamlList(yamlAt(tpl.Resources["ExportsBucket"].Properties, "LifecycleConfiguration", "Rules")) {
		if days, ok := yamlAt(rule, "ExpirationInDays").(int); ok && days <= 1 && yamlAt(rule, "Status") == "Enabled" {
			expires = true
		}
	}
	if !expires {
		t.Error("ExportsBucket keeps exports (personal data) for more than a day: add a lifecycle rule with ExpirationInDays 1")
	}
}

func TestExportsBucketMustBeABucketName(t *testing.T) {
	t.Parallel()
	key := "LINK_KEY=" + strings.Repeat("A", 43) + "="
	for _, bad := range []string{"Exports", "a", "has space", "-start", "end-", strings.Repeat("a", 64)} {
		env := map[string]string{"EXPORTS_BUCKET": bad}
		k, v, _ := strings.Cut(key, "=")
		env[k] = v
		if _, err := app.LoadConfig(func(name string) string { return env[name] }); err == nil || !strings.Contains(err.Error(), "EXPORTS_BUCKET") {
			t.Errorf("EXPORTS_BUCKET %q: %v, want an error naming it", bad, err)
		}
	}
}
