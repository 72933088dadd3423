// Package app composes the service from its configuration: it builds each AWS client
// once and wires store, mailer, service and handlers. The Lambda functions and the
// local server use it, so there is one way things are wired.
package app

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Var is one environment variable the service reads.
type Var struct {
	Name    string
	Default string // "" with Required false means empty is allowed
	Require bool
	Help    string
}

// Vars lists every environment variable the service reads, with its default. The
// README's configuration table and template.yaml are checked against this list.
var Vars = []Var{
	{Name: "TABLE_NAME", Default: "peergroups", Help: "DynamoDB table holding people, groups and memberships."},
	{Name: "BASE_URL", Default: "http://127.0.0.1:8080", Help: "Public address of the service, used in links in emails. Cookies are Secure when it starts with https://."},
	{Name: "MAIL_FROM", Default: "Peer Groups <peergroups@example.org>", Help: "From address of every email; its domain must be verified in SES."},
	{Name: "REPLY_TO", Default: "", Help: "Reply-To address of every email (the admin mailbox); empty for none."},
	{Name: "SES_CONFIGURATION_SET", Default: "", Help: "SES configuration set to send with; empty for none."},
	{Name: "LINK_KEY", Require: true, Help: "Base64 of 32 random bytes: seals links in emails and signs CSRF tokens. In AWS it comes from Secrets Manager; `make dev` generates one in .local/."},
	{Name: "ADMIN_EMAILS", Default: "", Help: "Comma-separated addresses that are network admins whatever the table says: the first admins, who appoint the others in the console."},
	{Name: "SES_MAX_SEND_RATE", Default: "0", Help: "Emails a second the announcements may go at; 0 reads SES's MaxSendRate (GetAccount). The SES stand-in has no quota, so `make dev` sets 14."},
	{Name: "SIGNUP_LIMIT_PER_EMAIL", Default: "5", Help: "Sign-ups and link requests allowed per email address per hour."},
	{Name: "SIGNUP_LIMIT_PER_IP", Default: "30", Help: "Sign-ups and link requests allowed per client IP address per hour."},
	{Name: "EXPORTS_BUCKET", Default: "peergroups-exports", Help: "S3 bucket that members CSV downloads are written to and fetched from by a presigned link valid for 5 minutes (a Lambda response is at most 6 MB)."},
}

// bucketName is what S3 accepts as a bucket's name.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Config is the service's configuration, read from the environment.
type Config struct {
	TableName        string
	BaseURL          string
	MailFrom         string
	ReplyTo          string
	ConfigurationSet string
	LinkKey          []byte
	LimitPerEmail    int
	LimitPerIP       int
	Admins           []string
	MaxSendRate      float64 // 0: ask SES
	ExportsBucket    string
}

// Secure reports whether the service is served over HTTPS.
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// LoadConfig reads the configuration through getenv (os.Getenv in production).
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var missing []string
	for _, v := range Vars {
		if v.Require && getenv(v.Name) == "" {
			missing = append(missing, v.Name)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("missing configuration: %s", strings.Join(missing, ", "))
	}
	c := Config{
		TableName:        get("TABLE_NAME"),
		BaseURL:          strings.TrimRight(get("BASE_URL"), "/"),
		MailFrom:         get("MAIL_FROM"),
		ReplyTo:          get("REPLY_TO"),
		ConfigurationSet: get("SES_CONFIGURATION_SET"),
		ExportsBucket:    get("EXPORTS_BUCKET"),
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Config{}, fmt.Errorf("BASE_URL %q is not an http(s) address", c.BaseURL)
	}
	key, err := base64.StdEncoding.DecodeString(get("LINK_KEY"))
	if err != nil || len(key) != 32 {
		return Config{}, fmt.Errorf("LINK_KEY must be the base64 of 32 bytes")
	}
	c.LinkKey = key
	for _, a := range strings.Split(get("ADMIN_EMAILS"), ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a == "" {
			continue
		}
		if !pg.ValidEmail(a) {
			return Config{}, fmt.Errorf("ADMIN_EMAILS: %q is not an email address", a)
		}
		c.Admins = append(c.Admins, a)
	}
	rate, err := strconv.ParseFloat(get("SES_MAX_SEND_RATE"), 64)
	if err != nil || rate < 0 || rate > 100000 {
		return Config{}, fmt.Errorf("SES_MAX_SEND_RATE must be a number of emails a second (0 to read it from SES)")
	}
	c.MaxSendRate = rate
	if !bucketName.MatchString(c.ExportsBucket) {
		return Config{}, fmt.Errorf("EXPORTS_BUCKET %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", c.ExportsBucket)
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"SIGNUP_LIMIT_PER_EMAIL", &c.LimitPerEmail}, {"SIGNUP_LIMIT_PER_IP", &c.LimitPerIP}} {
		v, err := strconv.Atoi(get(n.name))
		if err != nil || v < 1 {
			return Config{}, fmt.Errorf("%s must be a whole number above 0", n.name)
		}
		*n.dst = v
	}
	return c, nil
}
