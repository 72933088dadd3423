// Package app reads the service's configuration, builds each AWS client once and
// composes the outbox function. The other functions' compositions are in app/website
// (the web function) and app/announcing (the announce and reminders functions), so
// that each function's binary holds what it runs, which is what its cold start pays
// for. The functions, the local server and the tests all use these, so there is one
// way things are wired.
package app

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Var is one environment variable the service reads.
type Var struct {
	Name    string
	Default string // "" with Required false means empty is allowed
	Require bool
	Help    string
	Only    string // the functions that read it (their logical IDs in template.yaml, separated by spaces); "" for every function
}

// Vars lists every environment variable the service reads, with its default. The
// README's configuration table and template.yaml are checked against this list.
var Vars = []Var{
	{Name: "TABLE_NAME", Default: "peergroups", Help: "DynamoDB table holding people, groups and memberships."},
	{Name: "BASE_URL", Default: "http://127.0.0.1:8080", Help: "Public address of the service, used in links in emails. Cookies are Secure when it starts with https://."},
	{Name: "MAIL_FROM", Default: "Peer Groups <peergroups@example.org>", Help: "From address of every email; its domain must be verified in SES."},
	{Name: "REPLY_TO", Default: "", Help: "Reply-To address of every email (the admin mailbox); empty for none."},
	{Name: "SES_CONFIGURATION_SET", Default: "", Help: "SES configuration set to send with; empty for none."},
	{Name: "LINK_KEY", Require: true, Help: "Base64 of 32 random bytes: the secret from which the keys that seal links and sign sessions and rate-limit keys are derived. In AWS it comes from Secrets Manager; `make dev` generates one in .local/."},
	{Name: "LINK_KEY_PREVIOUS", Default: "", Help: "The LINK_KEY before a rotation (base64 of 32 bytes): links and session cookies it made keep working until LINK_KEY_PREVIOUS_UNTIL. Empty for none."},
	{Name: "LINK_KEY_PREVIOUS_UNTIL", Default: "", Help: "When LINK_KEY_PREVIOUS stops working (RFC 3339 time or YYYY-MM-DD, UTC midnight); required with LINK_KEY_PREVIOUS."},
	{Name: "PSEUDONYM_KEY", Default: "", Help: "A secret of at least 32 characters, never rotated, from which the key of the pseudonyms that stand for a person is derived (the audit trail's names for them, an erased address's suppression, the logs), so that rotating LINK_KEY changes none. In AWS Secrets Manager generates it; empty: derived from LINK_KEY, and they change when it is rotated (tests and `make dev`)."},
	{Name: "ADMIN_EMAILS", Default: "", Help: "Comma-separated addresses that are network admins whatever the table says: the first admins, who appoint the others in the console."},
	{Name: "SES_MAX_SEND_RATE", Default: "0", Help: "Emails a second the announcements may go at; 0 reads SES's MaxSendRate (GetAccount). The SES stand-in has no quota, so `make dev` sets 14."},
	{Name: "TRANSACTIONAL_SHARE", Default: "0.1", Help: "Share of the send rate an announcement leaves for transactional mail (sign-in links, confirmations) and reminders while it is sending: 0 to 0.9."},
	{Name: "SIGNUP_LIMIT_PER_EMAIL", Default: "5", Help: "Requests about one email address allowed from one client an hour, counted apart for sign-in links and for sign-ups and other link requests (so nobody elsewhere can use up a person's sign-ins)."},
	{Name: "SIGNUP_LIMIT_PER_IP", Default: "30", Help: "Sign-ups and link requests of every kind allowed per client IP address (IPv6: per /64) an hour."},
	{Name: "EXPORTS_BUCKET", Default: "peergroups-exports", Help: "S3 bucket that members CSV downloads are written to and fetched from by a presigned link valid for 5 minutes (a Lambda response is at most 6 MB)."},
	{Name: "KITS_BUCKET", Default: "peergroups-kits", Help: "Private S3 bucket of the rounds' kits: each revision is one JSON document at kits/objects/<sha256>.json, its sections as HTML at kits/html/<sha256>.json."},
	{Name: "KITS_UPLOAD_URL", Default: "", Help: "Address the browser posts kit files to instead of the kits bucket's own S3 address; empty in AWS. `make dev` and the tests set it to a local front that enforces the POST policy and redirects as S3 does (the S3 stand-in does neither).", Only: "WebFunction"},
	{Name: "RECEIVING_BUCKET", Default: "peergroups-inbound-mail", Help: "Private S3 bucket SES receiving stores each inbound message in (raw, at RECEIVING_PREFIX + its SES message ID), which the inbound function reads; the attachments it takes out of them are at RECEIVING_PREFIX + attachments/<sha256>, which the console links to for 5 minutes.", Only: "InboundFunction WebFunction"},
	{Name: "RECEIVING_PREFIX", Default: "inbound/", Help: "Key prefix of the receipt rule's S3 action.", Only: "InboundFunction"},
	{Name: "ADMIN_ADDRESS", Default: "admin@peergroups.example.org", Help: "The admin address people write to: mail to it is acknowledged, classified and shown to the admins.", Only: "InboundFunction"},
	{Name: "GROUPS_MAIL_DOMAIN", Default: "", Help: "Domain of the groups' addresses (each group's ID, or the address an admin gave it, @<domain>), whose mail goes to the group's facilitators, and which the home page shows beside each group; empty: no group addresses."},
	// Retention: how long each kind of data is kept (the README's retention table gives the reasons).
	{Name: "RETENTION_AUDIT_DAYS", Default: "2190", Help: "Days an audit entry is kept (six years): each is written with a TTL this far ahead, and older ones are left out of the audit trail even before DynamoDB deletes them."},
	{Name: "RETENTION_LEFT_MEMBERS_DAYS", Default: "365", Help: "Days the details of someone who left every group are kept before they are erased, as the privacy notice states."},
	{Name: "RETENTION_INBOUND_MAIL_DAYS", Default: "365", Help: "Days messages people send us are kept, as the privacy notice states."},
	{Name: "RETENTION_DELIVERY_EVENTS_DAYS", Default: "90", Help: "Days what happened to each email we sent (delivery events) is kept, as the privacy notice states."},
	{Name: "RENDER_FUNCTION", Default: "", Help: "Name or ARN of the render function, which the web function calls to turn a saved kit's Markdown into safe HTML; empty: kits are shown as the text they were written in. `make dev` renders in its own process.", Only: "WebFunction"},
	{Name: "TRANSIENT_BOUNCE_LIMIT", Default: "3", Help: "Transient bounces (a full mailbox, a server saying try later) in a row, with no delivery between them, after which an address is suppressed; permanent bounces and complaints suppress at once.", Only: "FeedbackFunction"},
	// The per-round circuit breaker (the announce function's).
	{Name: "BOUNCE_BREAKER_PERCENT", Default: "4", Help: "A round's sending pauses when this share (per cent) or more of the emails SES took since it was published or last resumed bounced; an admin resumes it on the round's page. SES reviews an account at 5 %.", Only: "AnnounceFunction"},
	{Name: "BOUNCE_BREAKER_MIN_SENDS", Default: "100", Help: "Emails SES must have taken (since the round was published or last resumed) before the circuit breaker judges the bounce rate, so that the first bounce of a few does not pause a round.", Only: "AnnounceFunction"},
}

// isBucketName reports whether name is what S3 accepts as a bucket's name: 3 to 63
// lower-case letters, digits, dots and hyphens, starting and ending with a letter or
// digit. (A loop, not a regular expression, because every function reads the
// configuration at its cold start.)
func isBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i, r := range name {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case (r == '.' || r == '-') && i > 0 && i < len(name)-1:
		default:
			return false
		}
	}
	return true
}

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

	// PseudonymKey is the secret, never rotated, of the pseudonyms that stand for a
	// person; nil: they are keyed by LinkKey.
	PseudonymKey []byte

	// The secret before a rotation, accepted until PreviousLinkKeyUntil; nil for none.
	PreviousLinkKey      []byte
	PreviousLinkKeyUntil time.Time

	// TransactionalShare is the share of the send rate announcements leave for
	// transactional mail and reminders.
	TransactionalShare float64
	ExportsBucket      string
	KitsBucket         string
	RenderFunction     string
	KitsUploadURL      string // "" for S3's own address

	// TransientBounceLimit is how many transient bounces in a row suppress an
	// address (the feedback function).
	TransientBounceLimit int

	// Breaker is the per-round circuit breaker's setting (the announce function).
	Breaker pg.Breaker

	// Mail in (the inbound function).
	ReceivingBucket  string
	ReceivingPrefix  string
	AdminAddress     string
	GroupsMailDomain string

	// Retention is how long each kind of data is kept.
	Retention pg.Retention
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
		KitsBucket:       get("KITS_BUCKET"),
		RenderFunction:   get("RENDER_FUNCTION"),
		ReceivingBucket:  get("RECEIVING_BUCKET"),
		ReceivingPrefix:  get("RECEIVING_PREFIX"),
		AdminAddress:     strings.ToLower(get("ADMIN_ADDRESS")),
		GroupsMailDomain: strings.ToLower(get("GROUPS_MAIL_DOMAIN")),
		KitsUploadURL:    get("KITS_UPLOAD_URL"),
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Config{}, fmt.Errorf("BASE_URL %q is not an http(s) address", c.BaseURL)
	}
	key, err := base64.StdEncoding.DecodeString(get("LINK_KEY"))
	if err != nil || len(key) != 32 {
		return Config{}, fmt.Errorf("LINK_KEY must be the base64 of 32 bytes")
	}
	c.LinkKey = key
	if u, err := url.Parse(c.KitsUploadURL); c.KitsUploadURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return Config{}, fmt.Errorf("KITS_UPLOAD_URL %q is not an http(s) address", c.KitsUploadURL)
	}
	if err := c.loadPreviousLinkKey(get); err != nil {
		return Config{}, err
	}
	if p := get("PSEUDONYM_KEY"); p != "" {
		if len(p) < links.MinPseudonymSecret {
			return Config{}, fmt.Errorf("PSEUDONYM_KEY must be a secret of at least %d characters (openssl rand -base64 32)", links.MinPseudonymSecret)
		}
		c.PseudonymKey = []byte(p)
	}
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
	share, err := strconv.ParseFloat(get("TRANSACTIONAL_SHARE"), 64)
	if err != nil || share < 0 || share > 0.9 {
		return Config{}, fmt.Errorf("TRANSACTIONAL_SHARE must be a share of the send rate from 0 to 0.9 (0.1 is a tenth)")
	}
	c.TransactionalShare = share
	if !isBucketName(c.ExportsBucket) {
		return Config{}, fmt.Errorf("EXPORTS_BUCKET %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", c.ExportsBucket)
	}
	if !isBucketName(c.ReceivingBucket) {
		return Config{}, fmt.Errorf("RECEIVING_BUCKET %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", c.ReceivingBucket)
	}
	if !pg.ValidEmail(c.AdminAddress) {
		return Config{}, fmt.Errorf("ADMIN_ADDRESS %q is not an email address", c.AdminAddress)
	}
	if !isBucketName(c.KitsBucket) {
		return Config{}, fmt.Errorf("KITS_BUCKET %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", c.KitsBucket)
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"SIGNUP_LIMIT_PER_EMAIL", &c.LimitPerEmail}, {"SIGNUP_LIMIT_PER_IP", &c.LimitPerIP}, {"TRANSIENT_BOUNCE_LIMIT", &c.TransientBounceLimit}} {
		v, err := strconv.Atoi(get(n.name))
		if err != nil || v < 1 {
			return Config{}, fmt.Errorf("%s must be a whole number above 0", n.name)
		}
		*n.dst = v
	}
	breakerPercent, err := strconv.ParseFloat(get("BOUNCE_BREAKER_PERCENT"), 64)
	if err != nil || breakerPercent <= 0 || breakerPercent > 100 {
		return Config{}, fmt.Errorf("BOUNCE_BREAKER_PERCENT must be a share of bounces in per cent, above 0 and at most 100 (4 is 4 %%)")
	}
	breakerMin, err := strconv.Atoi(get("BOUNCE_BREAKER_MIN_SENDS"))
	if err != nil || breakerMin < 1 {
		return Config{}, fmt.Errorf("BOUNCE_BREAKER_MIN_SENDS must be a whole number above 0")
	}
	c.Breaker = pg.Breaker{Percent: breakerPercent, MinSends: breakerMin}
	c.Retention = pg.DefaultRetention
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"RETENTION_AUDIT_DAYS", &c.Retention.Audit}, {"RETENTION_LEFT_MEMBERS_DAYS", &c.Retention.LeftMembers},
		{"RETENTION_INBOUND_MAIL_DAYS", &c.Retention.InboundMail}, {"RETENTION_DELIVERY_EVENTS_DAYS", &c.Retention.DeliveryEvents},
	} {
		v, err := strconv.Atoi(get(d.name))
		if err != nil || v < 1 || v > 36500 {
			return Config{}, fmt.Errorf("%s must be a whole number of days from 1 to 36500", d.name)
		}
		*d.dst = time.Duration(v) * 24 * time.Hour
	}
	return c, nil
}

// loadPreviousLinkKey reads the secret of before a rotation and when it stops working.
func (c *Config) loadPreviousLinkKey(get func(string) string) error {
	prev, until := get("LINK_KEY_PREVIOUS"), get("LINK_KEY_PREVIOUS_UNTIL")
	if prev == "" {
		return nil
	}
	key, err := base64.StdEncoding.DecodeString(prev)
	if err != nil || len(key) != links.SecretLength {
		return fmt.Errorf("LINK_KEY_PREVIOUS must be the base64 of 32 bytes")
	}
	if string(key) == string(c.LinkKey) {
		return fmt.Errorf("LINK_KEY_PREVIOUS is the same as LINK_KEY: set it to the key before the rotation")
	}
	at, err := time.Parse(time.RFC3339, until)
	if err != nil {
		at, err = time.Parse(time.DateOnly, until)
	}
	if err != nil {
		return fmt.Errorf("LINK_KEY_PREVIOUS_UNTIL must say when the previous key stops working (like 2027-01-31 or 2027-01-31T12:00:00Z), got %q", until)
	}
	c.PreviousLinkKey, c.PreviousLinkKeyUntil = key, at
	return nil
}

// Keyring returns the keys derived from LINK_KEY, and from LINK_KEY_PREVIOUS until it
// stops working, telling the time with now.
func (c Config) Keyring(now func() time.Time) (*links.Keyring, error) {
	ring, err := links.NewKeyring(c.LinkKey, c.PreviousLinkKey, c.PreviousLinkKeyUntil, now)
	if err != nil {
		return nil, fmt.Errorf("link keys: %w", err)
	}
	if c.PseudonymKey != nil {
		if err := ring.SetPseudonymKey(c.PseudonymKey); err != nil {
			return nil, err
		}
	}
	return ring, nil
}
