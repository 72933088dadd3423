package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
	"github.com/peergroups/peergroups/internal/testenv"
)

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
	if r := s.get("/kits/3"); !strings.Contains(r.Body, `href="/kits/3/download"`) {
		t.Error("the kit page does not offer the download")
	}

	r := s.get("/kits/3/download")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" || r.Header.Get("Content-Disposition") != `attachment; filename=round-3-core-kit-revision-3.zip` {
		t.Fatalf("download: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
	}
	zr, err := zip.NewReader(strings.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var names []string
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		names = append(names, f.Name)
		files[f.Name] = string(b)
	}
	if got, want := strings.Join(names, " "), "ATTRIBUTION.txt kit.json sections/01-welcome.md sections/02-running-the-session.md"; got != want {
		t.Errorf("files %q, want %q", got, want)
	}
	if got := files["sections/01-welcome.md"]; !strings.HasSuffix(got, "---\n\n# Welcome\n\nWe start at ten.\n") || !strings.Contains(got, `title: "Welcome"`) {
		t.Errorf("the first section:\n%s", got)
	}
	if got := files["sections/02-running-the-session.md"]; !strings.Contains(got, `audience: "facilitator"`) || !strings.HasSuffix(got, "Keep <b>time</b> & smile.\n") {
		t.Errorf("the second section:\n%s", got)
	}
	head, err := s.App.Services.Kits.Store.KitHead(context.Background(), 3, pg.CoreKit)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(files["kit.json"]))
	if hex.EncodeToString(sum[:]) != head.Revision.Hash {
		t.Errorf("kit.json is not the head revision as stored")
	}
	att := files["ATTRIBUTION.txt"]
	for _, w := range []string{
		"Research with users\n",
		"This is the core kit for round 3 (User research), revision 3, saved on " + head.Revision.At.In(pg.London).Format("2 January 2006"),
		"Licence: Open Government Licence v3.0 (OGL-3.0)",
		"Written by:\n- " + s.fac + "\n- " + s.admin + "\n",
		s.URL + "/kits/3",
		"- sections/02-running-the-session.md: Running the session (handout, for facilitators only: do not hand it out)",
	} {
		if !strings.Contains(att, w) {
			t.Errorf("ATTRIBUTION.txt does not say %q:\n%s", w, att)
		}
	}
	if !bytes.Contains([]byte(r.Body), []byte("PK\x03\x04")) {
		t.Error("no zip entries")
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

func TestAKitZipThroughTheLambdaAdapterArrivesWhole(t *testing.T) {
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
	if resp.StatusCode != http.StatusOK || !resp.IsBase64Encoded {
		t.Fatalf("status %d, base64 %v: %.300s", resp.StatusCode, resp.IsBase64Encoded, resp.Body)
	}
	b, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
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
		if r.Status != http.StatusInternalServerError || !strings.Contains(r.Body, "Sorry, there is a problem with the service") || r.Header.Get("Content-Type") == "application/zip" {
			t.Errorf("GET %s with a document missing: %d %q\n%.500s", path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	}
}
