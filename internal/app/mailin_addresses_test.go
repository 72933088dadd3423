package app_test

import (
	"context"
	"net/http"
	"net/smtp"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3mail"
	"github.com/peergroups/peergroups/internal/testenv"
)

// An admin gives the Midlands group another address in the console. Addresses that are
// the service's own, another group's, or not an address part at all are refused with
// words beside the field, and nothing changes; a form read before someone else's change
// is refused too. Once changed: the home page and the facilitators' page show the new
// address, mail to it goes to the group's facilitators, the old one still does for
// the grace period (then it is refused at RCPT), no other group can take either, and
// the change is in the audit trail.
func TestAnAdminChangesAGroupsAddressAndMailFollowsIt(t *testing.T) {
	t.Parallel()
	awsCfg := testenv.AWSConfig(t)
	s3c := s3exports.NewClient(awsCfg)
	bucket := testenv.Bucket(t, s3c)
	admin := testenv.Address("addr-admin")
	s := newSite(t, map[string]string{
		"ADMIN_EMAILS": admin, "RECEIVING_BUCKET": bucket, "ADMIN_ADDRESS": adminAddress,
		"GROUPS_MAIL_DOMAIN": groupsDomain, "REPLY_TO": "hello@" + groupsDomain,
	})
	ms := mailSiteOn(s, admin)
	ms.in.Mailboxes = s.App.Stores.Network
	fac := testenv.Address("addr-fac")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: admin, Admin: true}, "midlands", fac); err != nil {
		t.Fatal(err)
	}
	a := s.as(admin)
	page := a.get("/admin/groups/midlands")
	mustContain(t, page.Body, `id="address"`, `value="midlands"`, "@"+groupsDomain)
	version := versionOn(t, page.Body)

	for _, c := range []struct{ address, want string }{
		{"", "Enter the group’s email address"},
		{"west mids", "Email address must be lower-case letters, numbers, hyphens and full stops"},
		{"west-mids@" + groupsDomain, "Enter only the part of the email address before the @"},
		{"postmaster", "That email address is kept for the service itself"},
		{"hello", "That email address is kept for the service itself"}, // REPLY_TO's
		{"london", "That email address is another group’s"},
		{".midlands", "Email address must start and end with a letter or number"},
	} {
		r := a.post("/admin/groups/midlands/address", url.Values{"version": {version}, "address": {c.address}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("address %q: %d, want 400", c.address, r.Status)
			continue
		}
		mustContain(t, r.Body, "There is a problem", `href="#address"`, c.want)
	}
	if g, _ := s.App.Stores.Network.Group(context.Background(), "midlands"); g.MailLocal() != "midlands" {
		t.Fatalf("a refused address changed the group: %+v", g)
	}

	r := a.post("/admin/groups/midlands/address", url.Values{"version": {version}, "address": {" West-Mids "}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("change the address: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, a.get(r.Header.Get("Location")).Body, "The group’s email address has been changed", `value="west-mids"`)
	stale := a.post("/admin/groups/midlands/address", url.Values{"version": {version}, "address": {"midlands-group"}})
	if stale.Status != http.StatusConflict || !strings.Contains(stale.Body, "Someone else changed this group") {
		t.Errorf("a form read before the change: %d, want 409 with words", stale.Status)
	}
	if !slices.Contains(ms.auditActions("midlands"), "change group address") {
		t.Errorf("the audit trail of the group: %v", ms.auditActions("midlands"))
	}

	// Shown where people and facilitators look.
	home := s.get("/")
	mustContain(t, home.Body, "mailto:west-mids@"+groupsDomain)
	if strings.Contains(home.Body, "midlands@"+groupsDomain) {
		t.Error("the home page still shows the old address")
	}
	mustContain(t, s.as(fac).get("/facilitate/midlands").Body, "west-mids@"+groupsDomain)

	// Another group cannot take the new address, nor the old one while it is kept.
	lg := a.get("/admin/groups/london")
	for _, taken := range []string{"west-mids", "midlands"} {
		r := a.post("/admin/groups/london/address", url.Values{"version": {versionOn(t, lg.Body)}, "address": {taken}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "That email address is another group’s") {
			t.Errorf("London taking %s: %d", taken, r.Status)
		}
	}

	// Nor can a new group whose ID (its address) is the Midlands' address.
	cr := a.post("/admin/groups", url.Values{"id": {"west-mids"}, "name": {"West Mids"}, "regions": {"West Midlands"}})
	if cr.Status != http.StatusBadRequest || !strings.Contains(cr.Body, "Another group’s email address is west-mids") {
		t.Errorf("a new group named after the Midlands' address: %d", cr.Status)
	}

	// Mail to the new address, and to the old one within the grace period, goes to the
	// Midlands' facilitators, through the SMTP listener as in AWS through SES.
	in, handler, err := receiving.New(s.Config, app.NewClients(awsCfg), s3c, testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	l, err := devstack.StartMailListener(devstack.MailListenerOptions{
		Addr: "127.0.0.1:0", Accept: in.Accepts, Store: s3mail.New(s3c, bucket).PutRawMessage, Handle: handler.Handle,
		Prefix: s.Config.ReceivingPrefix, Log: testenv.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	before := len(testenv.Mail(t, fac))
	sender := testenv.Address("addr-sender")
	for _, to := range []string{"west-mids@" + groupsDomain, "midlands@" + groupsDomain} {
		if err := smtp.SendMail(l.Addr, nil, sender, []string{to}, simple(sender, "Venue "+to, "Is it step-free?")); err != nil {
			t.Fatalf("mail to %s: %v", to, err)
		}
	}
	notes := 0
	for _, m := range testenv.MailEventually(t, fac, before+2) {
		if strings.HasPrefix(m.Subject, "New message PG-") {
			notes++
		}
	}
	if notes != 2 {
		t.Errorf("the Midlands' facilitator was told of %d messages, want 2 (to the new address and the old)", notes)
	}
	if r := ms.receive(simple(sender, "Hello", "Again"), "ses-addr-1", "west-mids@"+groupsDomain); r.Conversation.Group != "midlands" {
		t.Errorf("mail to the new address: %+v", r.Conversation)
	}

	// Past the grace period the old address is refused at RCPT; the new one still works.
	s.Clock.Add(pg.MailboxGrace + time.Hour)
	if err := smtp.SendMail(l.Addr, nil, sender, []string{"midlands@" + groupsDomain}, simple(sender, "Late", "Hello")); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("mail to the old address after the grace period: %v, want refused with 550", err)
	}
	if !in.Accepts(context.Background(), "west-mids@"+groupsDomain) || in.Accepts(context.Background(), "nobody@"+groupsDomain) {
		t.Error("after the grace period: the new address refused, or an unknown one accepted")
	}
}
