package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// privacyMember is a confirmed member of London and the Midlands who is going to
// London's event of a published round: someone with something in most corners.
func privacyMember(t *testing.T) (*rsvpEvent, string, string) {
	t.Helper()
	e := newRSVPEvent(t, 5)
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
	// A message they sent us, stored as the inbound function stores it.
	at := e.s.Clock.Now()
	ref := "PG-" + strings.ToUpper(testenv.RandomID()[:6])
	msg := pg.InboundMessage{ID: "ses-" + testenv.RandomID(), RawKey: "inbound/x", Received: at, From: email, Subject: "A question", Text: "When is the next meeting?"}
	conv := pg.Conversation{Ref: ref, Status: "open", From: email, Subject: msg.Subject, Started: at, Updated: at, Messages: 1, Version: 1}
	if err := e.s.App.Stores.MailIn.SaveInbound(context.Background(), msg, conv, nil, nil, pg.AuditEntry{At: at, Actor: "mail-in", Action: "receive mail", Target: ref}); err != nil {
		t.Fatal(err)
	}
	return e, email, tokenOf(t, manage)
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
	e, email, manage := privacyMember(t)
	s := e.s
	if left := remains(t, s, email); len(left) == 0 {
		t.Fatal("the member left nothing in the table to erase")
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
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	email := testenv.Address("dp-subject")
	s.joinAndConfirm(email)
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
	audit := remains(t, s, "erased on a data-protection request")
	if len(audit) != 1 || audit[0]["actor"] != admin {
		t.Errorf("audit of the admin's erasure: %v", audit)
	}
}
