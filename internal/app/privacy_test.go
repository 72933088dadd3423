package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// privacyMember is a confirmed member of London and the Midlands who is going to
// London's event of a published round: someone with something in most corners.
func privacyMember(t *testing.T) (*rsvpEvent, string, string) {
	t.Helper()
	e, email, manage, _ := privacyMemberWithFiles(t)
	return e, email, manage
}

// mailFiles are the objects in the receiving bucket of privacyMember's message, and
// of another person's message that has one of the same attachments.
type mailFiles struct {
	raw, own, shared string // their raw message, the attachment only they sent, the one both sent
	otherRaw         string // the other sender's raw message
}

// storeMail stores a message from an address as the inbound function does: its raw
// message in the receiving bucket at inbound/<SES ID>, each attachment apart at
// inbound/attachments/<sha256>, and its item in a conversation of its own. It
// returns the raw message's key.
func storeMail(t *testing.T, s *site, from, subject string, attachments ...string) string {
	t.Helper()
	ctx := context.Background()
	s3c := s3exports.NewClient(testenv.AWSConfig(t))
	put := func(key, body string) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Config.ReceivingBucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	at := s.Clock.Now()
	msg := pg.InboundMessage{ID: "ses-" + strings.ToLower(testenv.RandomID()), Received: at, From: from, Subject: subject, Text: "When is the next meeting?"}
	msg.RawKey = "inbound/" + msg.ID
	put(msg.RawKey, "From: "+from+"\r\nSubject: "+subject+"\r\n\r\nWhen is the next meeting?\r\n")
	for i, body := range attachments {
		sum := sha256.Sum256([]byte(body))
		key := "inbound/attachments/" + hex.EncodeToString(sum[:])
		put(key, body)
		msg.Attachments = append(msg.Attachments, pg.InboundAttachment{Name: fmt.Sprintf("notes-%d.txt", i+1), Type: "text/plain", Size: len(body), Key: key})
	}
	ref := "PG-" + strings.ToUpper(testenv.RandomID()[:6])
	conv := pg.Conversation{Ref: ref, Status: "open", From: from, Subject: msg.Subject, Started: at, Updated: at, Messages: 1, Version: 1}
	if err := s.App.Stores.MailIn.SaveInbound(ctx, msg, conv, nil, nil, pg.AuditEntry{At: at, Actor: "mail-in", Action: "receive mail", Target: ref}); err != nil {
		t.Fatal(err)
	}
	return msg.RawKey
}

// attachmentKey is where storeMail keeps an attachment.
func attachmentKey(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "inbound/attachments/" + hex.EncodeToString(sum[:])
}

// bucketsMention returns, by listing the site's buckets (receiving, exports, kits),
// every object whose contents or key mention text, as bucket/key.
func bucketsMention(t *testing.T, s *site, text string) []string {
	t.Helper()
	ctx := context.Background()
	s3c := s3exports.NewClient(testenv.AWSConfig(t))
	var found []string
	for _, bucket := range []string{s.Config.ReceivingBucket, s.Config.ExportsBucket, s.Config.KitsBucket} {
		p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for page := 0; p.HasMorePages(); page++ {
			if page > 100 {
				t.Fatalf("bucket %s: more than 100 pages", bucket)
			}
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", bucket, err)
			}
			for _, o := range out.Contents {
				obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(obj.Body)
				obj.Body.Close()
				if strings.Contains(strings.ToLower(string(body)+aws.ToString(o.Key)), strings.ToLower(text)) {
					found = append(found, bucket+"/"+aws.ToString(o.Key))
				}
			}
		}
	}
	return found
}

// objectExists reports whether the receiving bucket holds key.
func objectExists(t *testing.T, s *site, bucket, key string) bool {
	t.Helper()
	_, err := s3exports.NewClient(testenv.AWSConfig(t)).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err == nil
}

// privacyMemberWithFiles is privacyMember, with the objects of the messages in the
// receiving bucket.
func privacyMemberWithFiles(t *testing.T) (*rsvpEvent, string, string, mailFiles) {
	t.Helper()
	e := newRSVPEventWith(t, 5, map[string]string{"RECEIVING_BUCKET": testenv.Bucket(t, s3exports.NewClient(testenv.AWSConfig(t)))})
	email := testenv.Address("privacy")
	form := joinForm(email)
	form["groups"] = []string{"london", "midlands"}
	if r := e.s.post("/join/groups", form); r.Status != http.StatusSeeOther {
		t.Fatalf("join: %d\n%s", r.Status, r.Body)
	}
	link := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/join/confirm")
	if r := e.s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", r.Status, r.Body)
	}
	manage := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/manage")
	other := e.person(t, "other")
	if _, err := e.open(t, other).answer("going"); err != nil {
		t.Fatal(err)
	}
	token, err := e.s.App.Services.Rounds.Links.Seal(links.Claims{Purpose: links.RSVP, Email: email, Name: "Ada Lovelace", Subject: "1/london"}, announce.RSVPLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.open(t, person{email: email, name: "Ada Lovelace", token: token}).answer("going"); err != nil {
		t.Fatal(err)
	}
	// A message they sent us, stored as the inbound function stores it, with an
	// attachment only they sent and one that someone else sent too (stored once: its
	// key is its content's hash).
	own, shared := "Notes by "+email+" for the next session", "Agenda for the Derby session "+testenv.RandomID()
	files := mailFiles{own: attachmentKey(own), shared: attachmentKey(shared)}
	files.raw = storeMail(t, e.s, email, "A question", own, shared)
	files.otherRaw = storeMail(t, e.s, testenv.Address("other-sender"), "The agenda", shared)
	return e, email, tokenOf(t, manage), files
}

// askFor presses a manage page's "Download my data" or "Delete my data" and returns
// the link the email carries.
func askFor(t *testing.T, s *site, manageToken, what string) {
	t.Helper()
	r := s.post("/manage/"+what, url.Values{"token": {manageToken}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
		t.Fatalf("ask to %s: %d\n%s", what, r.Status, r.Body)
	}
}

func TestAPersonDownloadsTheirDataOnceWithinTheHour(t *testing.T) {
	t.Parallel()
	e, email, manage := privacyMember(t)
	s := e.s
	askFor(t, s, manage, "export")
	mail := testenv.LastMail(t, email)
	if mail.Subject != "Download your Peer Groups data" {
		t.Fatalf("last email: %q", mail.Subject)
	}
	link := testenv.Link(t, mail.Body.Text, "/privacy/export")
	page := s.get(link)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Download my data") {
		t.Fatalf("export page: %d\n%s", page.Status, page.Body)
	}
	// Opening the page again (a mail scanner, say) uses nothing.
	if again := s.get(link); again.Status != http.StatusOK {
		t.Fatalf("export page again: %d", again.Status)
	}
	r := s.post("/privacy/export", url.Values{"token": {tokenOf(t, link)}})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v\n%s", r.Status, r.Header, r.Body)
	}
	var data struct {
		Email    string           `json:"email"`
		Person   []map[string]any `json:"person"`
		RSVPs    []map[string]any `json:"rsvps"`
		Messages []map[string]any `json:"messages"`
		Emails   []map[string]any `json:"emails"`
		Audit    []map[string]any `json:"audit"`
	}
	if err := json.Unmarshal([]byte(r.Body), &data); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, r.Body)
	}
	if data.Email != email {
		t.Errorf("export is of %q, want %q", data.Email, email)
	}
	var profile, london bool
	for _, it := range data.Person {
		if it["name"] == "Ada Lovelace" && it["consentForm"] == "join" && it["consentAt"] != nil {
			profile = true
		}
		if it["groupId"] == "london" && it["status"] == "confirmed" && it["consentForm"] == "join" {
			london = true
		}
		if _, ok := it["pk"]; ok {
			t.Errorf("the export carries the table's keys: %v", it)
		}
	}
	if !profile || !london {
		t.Errorf("export lacks the profile with its consent (%v) or the London membership (%v):\n%s", profile, london, r.Body)
	}
	if len(data.RSVPs) != 1 || data.RSVPs[0]["status"] != pg.Going {
		t.Errorf("export's answers: %v, want going to London's event", data.RSVPs)
	}
	if len(data.Messages) != 1 || data.Messages[0]["text"] != "When is the next meeting?" {
		t.Errorf("export's messages: %v, want the one they sent", data.Messages)
	}
	// The emails we sent them (the audit trail names them by their pseudonym), with
	// what became of each, and the audit entries about them.
	hash := s.App.Web.Privacy.AddressHash(email)
	sentTo := 0
	for _, a := range data.Audit {
		if a["target"] == "person "+hash && a["action"] == "send email" {
			sentTo++
		}
	}
	if sentTo < 2 {
		t.Errorf("export's audit entries: %v, want those of the emails sent to them (confirmation, welcome)", data.Audit)
	}
	for _, e := range data.Emails {
		if e["state"] != "sent" || e["id"] == nil || e["sealed"] != nil {
			t.Errorf("export's email %v: want its ID and state (sent), not the sealed message", e)
		}
	}
	if len(data.Emails) != sentTo {
		t.Errorf("export lists %d emails, want the %d the audit trail says were sent", len(data.Emails), sentTo)
	}

	// The link works once.
	if used := s.post("/privacy/export", url.Values{"token": {tokenOf(t, link)}}); used.Status != http.StatusGone || !strings.Contains(used.Body, "already been used") {
		t.Errorf("export link used twice: %d\n%s", used.Status, used.Body)
	}
	if used := s.get(link); used.Status != http.StatusGone {
		t.Errorf("export page of a used link: %d", used.Status)
	}

	// A new link expires after an hour, even while its item is still in the table.
	askFor(t, s, manage, "export")
	late := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/export")
	if late == link {
		t.Fatal("the second export email has the first link")
	}
	s.Clock.Add(pg.ExportLinkTTL + time.Second)
	if r := s.post("/privacy/export", url.Values{"token": {tokenOf(t, late)}}); r.Status != http.StatusGone || !strings.Contains(r.Body, "expired") {
		t.Errorf("export link after an hour: %d\n%s", r.Status, r.Body)
	}
}

// remains returns, by a Scan of the test's tables (a test may; no request path does),
// every item that mentions text anywhere.
func remains(t *testing.T, s *site, text string) []map[string]any {
	t.Helper()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	var found []map[string]any
	for _, table := range []string{s.Table, dynamo.AuditTableName(s.Table)} {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range page.Items {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(item, &m); err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(m)
				if strings.Contains(strings.ToLower(string(b)), strings.ToLower(text)) {
					found = append(found, m)
				}
			}
		}
	}
	return found
}

func TestAPersonErasesTheirDataByAConfirmedLinkAndMayJoinAgain(t *testing.T) {
	t.Parallel()
	e, email, manage, files := privacyMemberWithFiles(t)
	s := e.s
	if left := remains(t, s, email); len(left) == 0 {
		t.Fatal("the member left nothing in the table to erase")
	}
	// An admin downloaded the London members CSV, which lists them (kept a day in the
	// exports bucket), and another download lists only others.
	admin := s.as(e.admin.Email)
	if csv := admin.download("/facilitate/london/members.csv"); !strings.Contains(csv.Body, email) {
		t.Fatalf("the members CSV does not list them:\n%s", csv.Body)
	}
	s3c := s3exports.NewClient(testenv.AWSConfig(t))
	othersCSV := "members/midlands/" + testenv.RandomID() + "/midlands-confirmed-members.csv"
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.Config.ExportsBucket), Key: aws.String(othersCSV), Body: strings.NewReader("email,name\nsomeone@example.org,Someone\n")}); err != nil {
		t.Fatal(err)
	}
	if left := bucketsMention(t, s, email); len(left) < 3 {
		t.Fatalf("the buckets hold %v, want their raw message, their attachment and the members CSV", left)
	}
	askFor(t, s, manage, "erase")
	link := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/erase")
	page := s.get(link)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Delete my data") || !strings.Contains(page.Body, email) {
		t.Fatalf("erase page: %d\n%s", page.Status, page.Body)
	}
	if left := remains(t, s, email); len(left) == 0 {
		t.Fatal("opening the erase page deleted something")
	}
	r := s.post("/privacy/erase", url.Values{"token": {tokenOf(t, link)}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Your data has been deleted") {
		t.Fatalf("erase: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s, email); len(left) != 0 {
		t.Errorf("after erasure the tables still mention the address:\n%v", left)
	}
	if left := bucketsMention(t, s, email); len(left) != 0 {
		t.Errorf("after erasure the buckets still mention the address: %v", left)
	}
	for _, gone := range []string{files.raw, files.own} {
		if objectExists(t, s, s.Config.ReceivingBucket, gone) {
			t.Errorf("after erasure the receiving bucket still holds %s", gone)
		}
	}
	// What others sent is kept: their message, and the attachment that theirs has too.
	for _, kept := range []string{files.otherRaw, files.shared} {
		if !objectExists(t, s, s.Config.ReceivingBucket, kept) {
			t.Errorf("erasing one person deleted %s, which another person's message has", kept)
		}
	}
	if !objectExists(t, s, s.Config.ExportsBucket, othersCSV) {
		t.Error("erasing one person deleted a members CSV that does not list them")
	}
	// The place they held went back: the event counts nobody going.
	if _, status, going := e.answers(t); going != 1 || status[email] != "" {
		t.Errorf("after erasure: %d going (want the other person only), their answer %q", going, status[email])
	}
	// The audit trail says it happened, naming only the hash.
	hash := s.App.Web.Privacy.AddressHash(email)
	if audit := remains(t, s, "erased by its owner"); len(audit) != 1 || !strings.Contains(audit[0]["target"].(string), hash) {
		t.Errorf("audit entries of the erasure: %v", audit)
	}
	// The address is suppressed by its hash only.
	if erased, err := s.App.Stores.Privacy.Erased(context.Background(), hash); err != nil || !erased {
		t.Errorf("the erased address is not suppressed by its hash: %v %v", erased, err)
	}
	// The link works once.
	if again := s.post("/privacy/erase", url.Values{"token": {tokenOf(t, link)}}); again.Status != http.StatusGone {
		t.Errorf("erase link used twice: %d", again.Status)
	}

	// Signing up anew with a confirmed link lifts the suppression.
	s.joinAndConfirm(email)
	if erased, err := s.App.Stores.Privacy.Erased(context.Background(), hash); err != nil || erased {
		t.Errorf("a confirmed sign-up did not lift the suppression: %v %v", erased, err)
	}
}

func TestAnEraseLinkExpiresUnused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("erase-late")
	manage := tokenOf(t, testenv.Link(t, s.joinAndConfirm(email).Body.Text, "/manage"))
	askFor(t, s, manage, "erase")
	link := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/erase")
	s.Clock.Add(pg.EraseLinkTTL + time.Second)
	if r := s.post("/privacy/erase", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusGone {
		t.Errorf("erase link after it expired: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s, email); len(left) == 0 {
		t.Error("an expired erase link deleted the person")
	}
}

func TestAnAdminExportsAndErasesOnADataProtectionRequest(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("dp-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin, "RECEIVING_BUCKET": testenv.Bucket(t, s3exports.NewClient(testenv.AWSConfig(t)))})
	email := testenv.Address("dp-subject")
	s.joinAndConfirm(email)
	raw := storeMail(t, s, email, "Please delete my data", "My notes, from "+email)
	s.signIn(admin)
	if r := s.get("/admin/privacy"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Data-protection requests") {
		t.Fatalf("admin privacy page: %d\n%s", r.Status, r.Body)
	}
	if r := s.post("/admin/privacy/export", url.Values{"email": {"not an address"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "There is a problem") {
		t.Errorf("export of a bad address: %d\n%s", r.Status, r.Body)
	}
	r := s.post("/admin/privacy/export", url.Values{"email": {strings.ToUpper(email)}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"Ada Lovelace"`) {
		t.Fatalf("admin export: %d\n%s", r.Status, r.Body)
	}
	if r := s.post("/admin/privacy/erase", url.Values{"email": {email}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "has been deleted") {
		t.Fatalf("admin erase: %d\n%s", r.Status, r.Body)
	}
	if left := remains(t, s, email); len(left) != 0 {
		t.Errorf("after an admin's erasure the tables still mention the address:\n%v", left)
	}
	if left := bucketsMention(t, s, email); len(left) != 0 || objectExists(t, s, s.Config.ReceivingBucket, raw) {
		t.Errorf("after an admin's erasure the buckets still mention the address: %v", left)
	}
	audit := remains(t, s, "erased on a data-protection request")
	// The admin is named by their pseudonym, as everyone is in the trail (audit_test.go).
	if len(audit) != 1 || audit[0]["actor"] != pg.MailOutTarget(s.App.Services.Memberships.Pseudonym, admin) {
		t.Errorf("audit of the admin's erasure: %v", audit)
	}
}

// What a person signed up to outside their own partition (a council's contact, a
// proposed group they made and their interest in it) is in their export, and an
// erasure deletes it: the proposal stays for the others interested in it, without its
// proposer, and counts them only; declining it then tells nobody and fails nothing.
func TestSignUpsOutsideThePersonsPartitionAreExportedAndErased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := testenv.Address("su-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	email, fan := testenv.Address("su-person"), testenv.Address("su-fan")
	if r := s.post("/councils/sign-up", registerForm(email)); r.Status != http.StatusOK {
		t.Fatalf("council sign-up: %d\n%s", r.Status, r.Body)
	}
	if r := s.post("/councils/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/councils/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("council confirm: %d\n%s", r.Status, r.Body)
	}
	s.post("/proposals/new", url.Values{"area": {"North West"}, "name": {"Grace Hopper"}, "email": {email}, "why": {"No group covers Manchester."}})
	if r := s.post("/proposals/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/proposals/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("confirm proposal: %d\n%s", r.Status, r.Body)
	}
	props, err := s.App.Services.Proposals.OpenProposals(ctx)
	if err != nil || len(props) != 1 {
		t.Fatalf("proposals: %+v %v", props, err)
	}
	id := props[0].ID
	s.signIn(admin)
	if r := s.post("/admin/proposals/"+id+"/list", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("list: %d", r.Status)
	}
	s.post("/proposals/"+id+"/interest", url.Values{"name": {"Fan"}, "email": {fan}})
	if r := s.post("/proposals/interest/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, fan).Body.Text, "/proposals/interest/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("confirm interest: %d\n%s", r.Status, r.Body)
	}

	r := s.post("/admin/privacy/export", url.Values{"email": {email}})
	var data struct {
		Signups []map[string]any `json:"signups"`
	}
	if err := json.Unmarshal([]byte(r.Body), &data); err != nil {
		t.Fatalf("export: %d %v\n%s", r.Status, err, r.Body)
	}
	var contact, interest, proposal bool
	for _, it := range data.Signups {
		contact = contact || it["role"] == "Head of Digital"
		interest = interest || it["proposalId"] == id
		proposal = proposal || (it["area"] == "North West" && it["proposerEmail"] == email)
	}
	if !contact || !interest || !proposal {
		t.Errorf("export's sign-ups (council contact %v, interest %v, proposal %v): %v", contact, interest, proposal, data.Signups)
	}

	mailed := len(testenv.Mail(t, email))
	if r := s.post("/admin/privacy/erase", url.Values{"email": {email}}); r.Status != http.StatusOK {
		t.Fatalf("erase: %d\n%s", r.Status, r.Body)
	}
	// Nothing is left but the audit trail's record of the admin listing the proposal
	// (before and after): the trail is never changed (README, "Privacy").
	for _, left := range remains(t, s, email) {
		if left["pk"] != "AUDIT" || left["actor"] != admin || left["action"] != "list proposal" {
			t.Errorf("after erasure the tables still mention the address: %v", left)
		}
	}
	p, err := s.App.Services.Proposals.Proposal(ctx, id)
	if err != nil || p.Interested != 1 || p.ProposerEmail != "" || p.ProposerName != "" || p.Area != "North West" {
		t.Errorf("the proposal after its proposer was erased: %+v %v; want it kept, counting the fan only, naming nobody", p, err)
	}
	if err := s.App.Services.Proposals.DeclineProposal(ctx, pg.Caller{Email: admin, Admin: true}, id, "Too few people."); err != nil {
		t.Errorf("declining the proposal of an erased proposer: %v", err)
	}
	if got := len(testenv.Mail(t, email)); got != mailed {
		t.Errorf("the erased proposer got %d emails, want the %d before the erasure", got, mailed)
	}
}
