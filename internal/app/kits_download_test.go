package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
	"github.com/peergroups/peergroups/internal/testenv"
)

// kitZip is a downloaded zip: the link the service sent the browser to, and its files.
type kitZip struct {
	link  *url.URL
	name  string // the file name S3 gives it
	names []string
	files map[string]string
}

// download asks the service for a kit's zip, follows its 303 to S3 and reads the zip.
func (s *kitSite) download(path string) kitZip {
	s.t.Helper()
	r := s.get(path)
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("GET %s: %d, want 303 to the zip\n%.500s", path, r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		s.t.Errorf("the redirect to a presigned link may be cached: %q", r.Header.Get("Cache-Control"))
	}
	link, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.Get(link.String())
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET the zip: %d %v", resp.StatusCode, err)
	}
	z := kitZip{link: link, files: map[string]string{}}
	disposition, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if disposition != "attachment" || resp.Header.Get("Content-Type") != "application/zip" {
		s.t.Errorf("the zip comes as %q %q", resp.Header.Get("Content-Disposition"), resp.Header.Get("Content-Type"))
	}
	z.name = params["filename"]
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		s.t.Fatalf("not a zip: %v", err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			s.t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			s.t.Fatalf("%s: %v", f.Name, err)
		}
		z.names = append(z.names, f.Name)
		z.files[f.Name] = string(body)
	}
	return z
}

// zipKey is the key in the bucket of the zip a link fetches.
func (z kitZip) key(bucket string) string {
	return strings.TrimPrefix(z.link.Path, "/"+bucket+"/")
}

func TestAKitDownloadsAsAZipOfMarkdownItsDocumentAndItsAttribution(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	if r := s.get("/kits/3/download"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Round 3’s core kit has not been written yet.") {
		t.Errorf("a round without a kit: %d\n%s", r.Status, r.Body)
	}
	s.createKit()
	s.addSection("Welcome", pg.AudienceParticipant, "# Welcome\r\n\r\nWe start at ten.\r\n")
	s.as(s.admin)
	s.addSection("Running the session", pg.AudienceFacilitator, "Keep <b>time</b> & smile.")
	s.joinAndConfirm(s.fac) // the facilitator has a name: Ada Lovelace; the admin none
	s.as(s.fac)
	if r := s.get("/kits/3"); !strings.Contains(r.Body, `href="/kits/3/download"`) {
		t.Error("the kit page does not offer the download")
	}

	z := s.download("/kits/3/download")
	if z.name != "round-3-core-kit-revision-3.zip" {
		t.Errorf("the zip is named %q", z.name)
	}
	if got, want := strings.Join(z.names, " "), "ATTRIBUTION.txt kit.json sections/01-welcome.md sections/02-running-the-session.md"; got != want {
		t.Errorf("files %q, want %q", got, want)
	}
	if got := z.files["sections/01-welcome.md"]; !strings.HasSuffix(got, "---\n\n# Welcome\n\nWe start at ten.\n") || !strings.Contains(got, `title: "Welcome"`) {
		t.Errorf("the first section:\n%s", got)
	}
	if got := z.files["sections/02-running-the-session.md"]; !strings.Contains(got, `audience: "facilitator"`) || !strings.HasSuffix(got, "Keep <b>time</b> & smile.\n") {
		t.Errorf("the second section:\n%s", got)
	}
	head, err := s.App.Services.Kits.Store.KitHead(context.Background(), 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(z.files["kit.json"]))
	if hex.EncodeToString(sum[:]) != head.Revision.Hash {
		t.Errorf("kit.json is not the head revision as stored")
	}
	att := z.files["ATTRIBUTION.txt"]
	for _, w := range []string{
		"Research with users\n",
		"This is the core kit for round 3 (User research), revision 3, saved on " + head.Revision.At.In(pg.London).Format("2 January 2006"),
		"Licence: Open Government Licence v3.0 (OGL-3.0)",
		"Written by:\n- Ada Lovelace\n- another facilitator\n",
		s.URL + "/kits/3",
		"- sections/02-running-the-session.md: Running the session (handout, for facilitators only: do not hand it out)",
	} {
		if !strings.Contains(att, w) {
			t.Errorf("ATTRIBUTION.txt does not say %q:\n%s", w, att)
		}
	}
	if strings.Contains(att, "@") {
		t.Errorf("ATTRIBUTION.txt shows an email address:\n%s", att)
	}

	// The link is a presigned GET of the zip in the kits bucket, for 5 minutes.
	key := z.key(s.Config.KitsBucket)
	q := z.link.Query()
	if !strings.HasPrefix(key, "kits/zips/") || !strings.HasSuffix(key, ".zip") || q.Get("X-Amz-Expires") != "300" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("link %s: want a presigned GET of kits/zips/<key>.zip for 300 seconds", z.link)
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil || time.Since(signed).Abs() > time.Minute {
		t.Errorf("link signed at %q, want now", q.Get("X-Amz-Date"))
	}
	// Used after it expired, S3 refuses the link (the stand-in does not check: the
	// link says when it stops working).
	expires, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
	if after := signed.Add(time.Duration(expires) * time.Second); after.After(time.Now().Add(6*time.Minute)) || after.Before(time.Now().Add(4*time.Minute)) {
		t.Errorf("the link works until %v, want 5 minutes from now", after)
	}

	// A second download of the same revision fetches the zip made the first time: it
	// is not made again (here the kept zip is changed, and the change comes back).
	client := s3exports.NewClient(testenv.AWSConfig(t))
	marked := []byte("PK\x05\x06" + strings.Repeat("\x00", 18))
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(key), Body: bytes.NewReader(marked)}); err != nil {
		t.Fatal(err)
	}
	again := s.download("/kits/3/download")
	if again.key(s.Config.KitsBucket) != key || len(again.names) != 0 {
		t.Errorf("the second download made the zip again: %s %q", again.link, again.names)
	}
	if keys := s.keys("kits/zips/"); len(keys) != 1 {
		t.Errorf("zips kept: %v, want one", keys)
	}
	// A new revision is a new zip.
	s.addSection("Close", pg.AudienceParticipant, "Thanks.")
	if next := s.download("/kits/3/download"); next.key(s.Config.KitsBucket) == key || len(next.names) != 5 {
		t.Errorf("a new revision downloads the old zip: %q", next.names)
	}

	if r := s.get("/kits/99/download"); r.Status != http.StatusNotFound {
		t.Errorf("a round that does not exist: %d", r.Status)
	}
	if r := s.get("/kits/3/download?kit=BAD%23"); r.Status != http.StatusNotFound {
		t.Errorf("a kit name that cannot be one: %d", r.Status)
	}
	member := testenv.Address("kit-member")
	s.joinAndConfirm(member)
	s.as(member)
	if r := s.get("/kits/3/download"); r.Status != http.StatusForbidden {
		t.Errorf("a member downloads the kit, facilitators' notes and all: %d", r.Status)
	}
}

// pngOf is a PNG-typed file of n bytes that does not compress.
func pngOf(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func TestAKitZipHasItsUploadedFilesByteForByteItsAgendaAndRunSheets(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	handout := s.addSection("Handout", pg.AudienceParticipant, "The slides, as a web page.")
	// Over one part of the zip's upload: the zip is written in parts.
	big := pngOf(s3kits.PartSize + 300<<10)
	s.addFile("Opening slides.pdf", samplePDF, "Opening slides", handout)
	s.addFile("Journey map.png", big, "Journey map", "")
	s.planAgenda(
		agendaItem{minutes: "15", title: "Welcome", kind: pg.AgendaTalk, participant: "Coffee first.", facilitator: "Greet people at the door."},
		agendaItem{minutes: "45", title: "Mapping", kind: pg.AgendaExercise, materials: "Sticky notes"},
	)

	z := s.download("/kits/3/download")
	want := "ATTRIBUTION.txt kit.json sections/01-handout.md agenda.csv run-sheet-facilitators.html run-sheet-participants.html files/01-Opening slides.pdf files/02-Journey map.png"
	if got := strings.Join(z.names, " "); got != want {
		t.Fatalf("files %q, want %q", got, want)
	}
	if z.files["files/01-Opening slides.pdf"] != string(samplePDF) || z.files["files/02-Journey map.png"] != string(big) {
		t.Error("the files in the zip are not the files uploaded")
	}
	rows, err := csv.NewReader(strings.NewReader(z.files["agenda.csv"])).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][3] != "Welcome" || rows[2][1] != "15" || rows[1][7] != "Greet people at the door." {
		t.Errorf("agenda.csv: %q %v", rows, err)
	}
	fac, part := z.files["run-sheet-facilitators.html"], z.files["run-sheet-participants.html"]
	for _, w := range []string{"<!DOCTYPE html>", `<html lang="en-GB">`, "@media print", "Run sheet: facilitators", "0:15 to 1:00", "Greet people at the door.", "Sticky notes"} {
		if !strings.Contains(fac, w) {
			t.Errorf("the facilitators' run sheet does not say %q", w)
		}
	}
	if !strings.Contains(part, "Coffee first.") || strings.Contains(part, "Greet people") || strings.Contains(part, "Sticky notes") {
		t.Errorf("the participants' run sheet:\n%s", part)
	}
	att := z.files["ATTRIBUTION.txt"]
	for _, w := range []string{"- files/01-Opening slides.pdf: Opening slides (PDF, ", "- files/02-Journey map.png: Journey map (PNG, ", "- run-sheet-participants.html"} {
		if !strings.Contains(att, w) {
			t.Errorf("ATTRIBUTION.txt does not say %q:\n%s", w, att)
		}
	}
	if strings.Contains(att, "MISSING") {
		t.Errorf("ATTRIBUTION.txt says a file is missing:\n%s", att)
	}
}

func TestAMemberDownloadsTheirGroupsVersionWithNothingForFacilitatorsOnly(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	open := s.addSection("Warm-up", pg.AudienceParticipant, "Bring three questions.\n")
	secret := s.addSection("Facilitators’ briefing", pg.AudienceFacilitator, "The answers are in the envelope.\n")
	s.addFile("Slides.pdf", samplePDF, "Warm-up slides", open)
	s.addFile("Answers.pdf", append([]byte("%PDF-1.4 answers"), samplePDF...), "Answer sheet", secret)
	s.planAgenda(agendaItem{minutes: "30", title: "Questions", kind: pg.AgendaExercise, participant: "Ask away.", facilitator: "Hold back the envelope.", materials: "The envelope"})
	s.takeKit("london", pg.CoreKit)
	day := time.Date(2027, 3, 4, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.SetEvent(context.Background(), pg.Caller{Email: s.admin, Admin: true}, pg.Event{Round: 3, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: "Guildhall", Capacity: 30}); err != nil {
		t.Fatal(err)
	}

	member := testenv.Address("kit-member")
	form := joinForm(member)
	form.Set("groups", "london")
	if r := s.post("/join/groups", form); r.Status != http.StatusSeeOther {
		t.Fatalf("join London: %d\n%s", r.Status, r.Body)
	}
	link := testenv.Link(t, testenv.LastMail(t, member).Body.Text, "/join/confirm")
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d", r.Status)
	}
	s.as(member)
	page := s.get("/kits/3/groups/london")
	if !strings.Contains(page.Body, `href="/kits/3/groups/london/download"`) {
		t.Error("the member's page does not offer the download")
	}
	if strings.Contains(page.Body, s.fac) || strings.Contains(page.Body, s.admin) {
		t.Error("the member's page shows an author's email address")
	}
	z := s.download("/kits/3/groups/london/download")
	if z.name != "round-3-london-kit-for-participants-revision-1.zip" {
		t.Errorf("the member's zip is named %q", z.name)
	}
	want := "ATTRIBUTION.txt sections/01-warm-up.md agenda.csv run-sheet-participants.html files/01-Slides.pdf"
	if got := strings.Join(z.names, " "); got != want {
		t.Errorf("a member's zip has %q, want %q", got, want)
	}
	for name, body := range z.files {
		for _, hidden := range []string{"Facilitators’ briefing", "envelope", secret, "Answer", "Facilitator notes", "Materials", "facilitators only", s.fac, s.admin, member} {
			if strings.Contains(body, hidden) {
				t.Errorf("a member's %s carries %q", name, hidden)
			}
		}
	}
	att := z.files["ATTRIBUTION.txt"]
	for _, w := range []string{"This is London’s version of the kit for round 3 (User research), revision 1", "as its participants see it", "Based on the core kit for round 3, revision", s.URL + "/kits/3/groups/london"} {
		if !strings.Contains(att, w) {
			t.Errorf("the member's ATTRIBUTION.txt does not say %q:\n%s", w, att)
		}
	}
	if rs := z.files["run-sheet-participants.html"]; !strings.Contains(rs, "Run sheet for London: participants") || !strings.Contains(rs, "2pm to 2:30pm") || !strings.Contains(rs, "Guildhall") {
		t.Errorf("the member's run sheet is not timed from London's event:\n%s", rs)
	}
	// The whole kit, and another group's version, are not theirs.
	for _, path := range []string{"/kits/3/download", "/kits/3/download?kit=london", "/kits/3/groups/midlands/download"} {
		if r := s.get(path); r.Status != http.StatusForbidden {
			t.Errorf("a member GET %s: %d", path, r.Status)
		}
	}
	// London's facilitator downloads London's version whole, as a separate zip.
	s.as(s.fac)
	whole := s.download("/kits/3/groups/london/download")
	if whole.key(s.Config.KitsBucket) == z.key(s.Config.KitsBucket) || whole.files["sections/02-facilitators-briefing.md"] == "" || whole.files["files/02-Answers.pdf"] == "" {
		t.Errorf("the facilitator's zip of London's version: %q", whole.names)
	}
}

// A file whose content is gone from the bucket: the zip is made without it and says so
// (the rest of the kit is still worth having), and is made again once it is back.
func TestAKitFileMissingFromS3IsNamedInTheZipAndTheRestDownloads(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Handout", pg.AudienceParticipant, "Text.")
	s.addFile("Slides.pdf", samplePDF, "Opening slides", "")
	other := []byte("Name,Council\nAda,Camden\n")
	s.addFile("People.csv", other, "Who came", "")
	sum := sha256.Sum256(samplePDF)
	client := s3exports.NewClient(testenv.AWSConfig(t))
	if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(s3kits.BlobKey(hex.EncodeToString(sum[:])))}); err != nil {
		t.Fatal(err)
	}
	z := s.download("/kits/3/download")
	if got, want := strings.Join(z.names, " "), "ATTRIBUTION.txt kit.json sections/01-handout.md files/02-People.csv"; got != want {
		t.Errorf("files %q, want %q", got, want)
	}
	if z.files["files/02-People.csv"] != string(other) {
		t.Error("the file that is there is not in the zip whole")
	}
	if att := z.files["ATTRIBUTION.txt"]; !strings.Contains(att, "Files missing from this zip (tell the network's admins):\n- Opening slides (Slides.pdf, ") {
		t.Errorf("ATTRIBUTION.txt does not say which file is missing:\n%s", att)
	}
	// Put back, the file is in the next zip.
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(s3kits.BlobKey(hex.EncodeToString(sum[:]))), Body: bytes.NewReader(samplePDF)}); err != nil {
		t.Fatal(err)
	}
	if again := s.download("/kits/3/download"); again.files["files/01-Slides.pdf"] != string(samplePDF) || strings.Contains(again.files["ATTRIBUTION.txt"], "MISSING") {
		t.Errorf("the file put back is not in the zip: %q", again.names)
	}
}

func TestAKitDownloadThroughTheLambdaAdapterIsARedirectToTheZip(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Slides", pg.AudienceParticipant, "Hello.")
	ev := loadEvent(t, "web-get-join.json")
	ev.RawPath, ev.RequestContext.HTTP.Path = "/kits/3/download", "/kits/3/download"
	ev.Cookies = []string{"session=" + s.sessionFor(t, s.fac)}
	resp, err := httpadapter.NewV2(s.App.Handler()).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || len(resp.Body) > 1000 {
		t.Fatalf("status %d, %d bytes: %.300s", resp.StatusCode, len(resp.Body), resp.Body)
	}
	link, err := url.Parse(resp.Headers["Location"])
	if err != nil || !strings.HasPrefix(link.Path, "/"+s.Config.KitsBucket+"/kits/zips/") {
		t.Fatalf("Location %q", resp.Headers["Location"])
	}
	got, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	if len(zr.File) != 3 || zr.File[2].Name != "sections/01-slides.md" {
		t.Errorf("files %v", zr.File)
	}
}

// A revision's document gone from the bucket is a fault: the compare page and the
// download say so (500), and nothing half-made reaches the person.
func TestAMissingRevisionDocumentIsAFaultOnTheComparePageAndTheDownload(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	s.addSection("Part A", pg.AudienceParticipant, "Some text")
	rev := s.revisions()
	if _, err := s3exports.NewClient(testenv.AWSConfig(t)).DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(s.Config.KitsBucket), Key: aws.String(s3kits.Key(rev[2]))}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{comparePath(rev[1], rev[2]), "/kits/3/download"} {
		r := s.get(path)
		if r.Status != http.StatusInternalServerError || !strings.Contains(r.Body, "Sorry, there is a problem with the service") || r.Header.Get("Location") != "" {
			t.Errorf("GET %s with a document missing: %d %q\n%.500s", path, r.Status, r.Header.Get("Location"), r.Body)
		}
	}
	if keys := s.keys("kits/zips/"); len(keys) != 0 {
		t.Errorf("a zip was made without its document: %v", keys)
	}
}
