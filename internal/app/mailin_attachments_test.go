package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

var attachmentLink = regexp.MustCompile(`href="(/admin/inbox/PG-[A-Z0-9]+/attachments/[0-9a-f]{64})"`)

// A message with an attachment (events/mail/attachment.eml), received by the inbound
// function as composed for Lambda: the attachment is stored apart at its hash, listed
// in the conversation, and downloaded through a 303 to a short presigned link that
// saves it under a safe name (its right-to-left override gone) and never shows it
// inline. A facilitator of another group, or a file that is not in the conversation,
// gets nothing.
func TestAnAttachmentIsListedAndDownloadedByAShortLink(t *testing.T) {
	t.Parallel()
	awsCfg := testenv.AWSConfig(t)
	s3c := s3exports.NewClient(awsCfg)
	bucket := testenv.Bucket(t, s3c)
	admin := testenv.Address("mail-admin")
	s := newSite(t, map[string]string{"RECEIVING_BUCKET": bucket, "ADMIN_ADDRESS": adminAddress, "ADMIN_EMAILS": admin})
	_, handler, err := receiving.New(s.Config, app.NewClients(awsCfg), s3c, testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var event events.SimpleEmailEvent
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "events", "inbound-ses.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &event); err != nil {
		t.Fatal(err)
	}
	sesID := "ses-attach-" + strings.ToLower(testenv.RandomID())
	event.Records[0].SES.Mail.MessageID = sesID
	sender := testenv.Address("priya")
	raw := message(t, "attachment.eml", sender)
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("inbound/" + sesID), Body: bytes.NewReader(raw)}); err != nil {
		t.Fatal(err)
	}
	if err := handler.Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	acks := testenv.Mail(t, sender)
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	ref := pg.FindMailReference(acks[0].Subject)

	a := s.as(admin)
	page := a.get("/admin/inbox/" + ref)
	if page.Status != http.StatusOK {
		t.Fatalf("the conversation: %d", page.Status)
	}
	found := attachmentLink.FindStringSubmatch(page.Body)
	if found == nil {
		t.Fatalf("no link to the attachment in the conversation:\n%s", page.Body)
	}
	if strings.Contains(page.Body, "\u202e") {
		t.Error("the attachment's name shows a right-to-left override")
	}
	r := a.get(found[1])
	if r.Status != http.StatusSeeOther || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the download: %d %v, want a 303 that is not cached", r.Status, r.Header)
	}
	link, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := link.Query()
	if q.Get("X-Amz-Expires") != "300" || q.Get("response-content-type") != "application/octet-stream" {
		t.Errorf("the presigned link: expires %q, type %q; want 300 s, application/octet-stream", q.Get("X-Amz-Expires"), q.Get("response-content-type"))
	}
	disposition, params, err := mime.ParseMediaType(q.Get("response-content-disposition"))
	if err != nil || disposition != "attachment" {
		t.Fatalf("disposition %q (%v), want attachment", q.Get("response-content-disposition"), err)
	}
	if name := params["filename"]; !strings.HasPrefix(name, "agenda notes") || !strings.HasSuffix(name, ".exe") || strings.ContainsFunc(name, func(r rune) bool { return r > 0x7e || r < ' ' }) {
		t.Errorf("downloaded as %q: want the sender's name made safe", name)
	}
	if !strings.HasSuffix(link.Path, "/inbound/attachments/"+filepath.Base(found[1])) {
		t.Errorf("the link is to %s, not to the attachment stored apart", link.Path)
	}
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "Agenda for the Derby session\n\n1. Welcome\n2. User research in councils\n"; string(body) != want {
		t.Errorf("the file downloaded: %q, want %q", body, want)
	}

	fac := testenv.Address("other-fac")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: admin, Admin: true}, "london", fac); err != nil {
		t.Fatal(err)
	}
	if r := s.as(fac).get(found[1]); r.Status != http.StatusNotFound {
		t.Errorf("a facilitator who may not see the conversation downloads its attachment: %d", r.Status)
	}
	if r := a.get("/admin/inbox/" + ref + "/attachments/" + strings.Repeat("0", 64)); r.Status != http.StatusNotFound {
		t.Errorf("a file that is not in the conversation: %d, want 404", r.Status)
	}
}
