package app_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/testenv"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	cases := []struct {
		name string
		env  map[string]string
		want string // part of the error, "" for none
	}{
		{"defaults and a key are enough", map[string]string{"LINK_KEY": key}, ""},
		{"the link key is required", map[string]string{}, "missing configuration: LINK_KEY"},
		{"a short link key is refused", map[string]string{"LINK_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "32 bytes"},
		{"a base URL must be http(s)", map[string]string{"LINK_KEY": key, "BASE_URL": "ftp://x"}, "BASE_URL"},
		{"a limit must be a number", map[string]string{"LINK_KEY": key, "SIGNUP_LIMIT_PER_IP": "many"}, "SIGNUP_LIMIT_PER_IP"},
		{"a limit must be above 0", map[string]string{"LINK_KEY": key, "SIGNUP_LIMIT_PER_EMAIL": "0"}, "SIGNUP_LIMIT_PER_EMAIL"},
		{"a bucket name with dots and hyphens", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "exports.peer-groups.1"}, ""},
		{"a bucket name in capitals is refused", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "Exports"}, "EXPORTS_BUCKET"},
		{"a bucket name of two letters is refused", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "ab"}, "EXPORTS_BUCKET"},
		{"a bucket name of 64 letters is refused", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": strings.Repeat("a", 64)}, "EXPORTS_BUCKET"},
		{"a bucket name may not start with a hyphen", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "-exports"}, "EXPORTS_BUCKET"},
		{"a bucket name may not end with a dot", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "exports."}, "EXPORTS_BUCKET"},
		{"a bucket name may not hold a slash", map[string]string{"LINK_KEY": key, "EXPORTS_BUCKET": "ex/ports"}, "EXPORTS_BUCKET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := app.LoadConfig(func(k string) string { return tc.env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			case tc.want == "" && (cfg.TableName != "peergroups" || cfg.LimitPerEmail != 5 || cfg.Secure()):
				t.Fatalf("defaults not applied: %+v", cfg)
			}
		})
	}
}

// The README's configuration table lists every variable with its default.
func TestTheReadmeListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(testenv.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range app.Vars {
		def := v.Default
		if def == "" {
			def = "(none)"
			if v.Require {
				def = "(required)"
			}
		}
		row := "| `" + v.Name + "` | `" + def + "` |"
		if def == "(none)" || def == "(required)" {
			row = "| `" + v.Name + "` | " + def + " |"
		}
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no configuration row starting %q", row)
		}
	}
}

func TestLoadConfigPreviousLinkKey(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	prev := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32)))
	cases := []struct {
		name string
		env  map[string]string
		want string // part of the error, "" for none
	}{
		{"no previous key", map[string]string{"LINK_KEY": key}, ""},
		{"a previous key until a date", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": prev, "LINK_KEY_PREVIOUS_UNTIL": "2027-03-01"}, ""},
		{"a previous key until a time", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": prev, "LINK_KEY_PREVIOUS_UNTIL": "2027-03-01T12:00:00Z"}, ""},
		{"a previous key needs an end", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": prev}, "LINK_KEY_PREVIOUS_UNTIL"},
		{"an end must be a date", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": prev, "LINK_KEY_PREVIOUS_UNTIL": "next week"}, "LINK_KEY_PREVIOUS_UNTIL"},
		{"a short previous key", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": base64.StdEncoding.EncodeToString(make([]byte, 16)), "LINK_KEY_PREVIOUS_UNTIL": "2027-03-01"}, "LINK_KEY_PREVIOUS must"},
		{"the previous key is not the current one", map[string]string{"LINK_KEY": key, "LINK_KEY_PREVIOUS": key, "LINK_KEY_PREVIOUS_UNTIL": "2027-03-01"}, "same as LINK_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := app.LoadConfig(func(k string) string { return tc.env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			case tc.want == "" && tc.env["LINK_KEY_PREVIOUS"] != "" && (len(cfg.PreviousLinkKey) != 32 || cfg.PreviousLinkKeyUntil.Year() != 2027):
				t.Fatalf("previous key not read: %+v", cfg)
			}
		})
	}
}
