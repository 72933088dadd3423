package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// uploadPage is the upload form as a browser sees it: where it posts, and its hidden
// fields in order.
type uploadPage struct {
	Action string
	Fields [][2]string
}

var (
	uploadAction = regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data"`)
	hiddenField  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// uploadForm opens round 3's upload page.
func (s *kitSite) uploadForm() uploadPage {
	s.t.Helper()
	r := s.get("/kits/3/files/new")
	m := uploadAction.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		s.t.Fatalf("upload page: %d\n%s", r.Status, r.Body)
	}
	p := uploadPage{Action: html.UnescapeString(m[1])}
	if u, _ := url.Parse(p.Action); !strings.Contains(r.Header.Get("Content-Security-Policy"), "form-action 'self' "+u.Scheme+"://"+u.Host+";") {
		s.t.Errorf("the upload page's CSP does not let the form go to %s: %s", u.Host, r.Header.Get("Content-Security-Policy"))
	}
	for _, f := range hiddenField.FindAllStringSubmatch(r.Body, -1) {
		p.Fields = append(p.Fields, [2]string{html.UnescapeString(f[1]), html.UnescapeString(f[2])})
	}
	if !strings.Contains(r.Body, `name="file" type="file"`) {
		s.t.Error("the upload page has no file field")
	}
	return p
}

// field returns a hidden field's value.
func (p uploadPage) field(name string) string {
	for _, f := range p.Fields {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}

// post sends the form as a browser does, multipart with the file last, and does not
// follow the redirect; change alters fields on the way.
func (p uploadPage) post(t *testing.T, filename string, content []byte, change map[string]string) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range p.Fields {
		v := f[1]
		if c, ok := change[f[0]]; ok {
			v = c
		}
		mw.WriteField(f[0], v)
	}
	for k, v := range change {
		if p.field(k) == "" {
			mw.WriteField(k, v)
		}
	}
	w, _ := mw.CreateFormFile("file", filename)
	w.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, p.Action, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// upload posts a file through the form and follows S3's redirect back to the service.
func (s *kitSite) upload(filename string, content []byte) response {
	s.t.Helper()
	r := s.uploadForm().post(s.t, filename, content, nil)
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("upload %s: %d\n%s", filename, r.Status, r.Body)
	}
	return s.get(r.Header.Get("Location"))
}

var fileToken = regexp.MustCompile(`name="file" value="([^"]+)"`)

// addFile uploads a file and adds it to the kit with a title; it returns the file's ID.
func (s *kitSite) addFile(filename string, content []byte, title, alternative string) string {
	s.t.Helper()
	r := s.upload(filename, content)
	m := fileToken.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		s.t.Fatalf("uploaded %s: %d\n%s", filename, r.Status, r.Body)
	}
	from := fromField.FindStringSubmatch(r.Body)
	a := s.post("/kits/3/files", url.Values{"file": {html.UnescapeString(m[1])}, "from": {from[1]}, "title": {title}, "alternative": {alternative}, "note": {"Added " + title}})
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), "/kits/3?done=") {
		s.t.Fatalf("add file: %d %q\n%s", a.Status, a.Header.Get("Location"), a.Body)
	}
	kit, err := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, f := range kit.Doc.Files {
		if f.Title == title {
			return f.ID
		}
	}
	s.t.Fatalf("the kit has no file %q: %+v", title, kit.Doc.Files)
	return ""
}

// keys lists the kits bucket's keys under a prefix.
func (s *kitSite) keys(prefix string) []string {
	s.t.Helper()
	out, err := s3exports.NewClient(testenv.AWSConfig(s.t)).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Config.KitsBucket), Prefix: aws.String(prefix)})
	if err != nil {
		s.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// samplePDF is a small PDF.
var samplePDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func TestAnUploadedPDFIsKeptOnceAtItsContentsAddressAndDownloadsThroughAShortLink(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	handout := s.addSection("Handout", pg.AudienceParticipant, "The same as the slides, as a web page.")

	r := s.upload("Opening slides.pdf", samplePDF)
	mustContain(t, r.Body, "Add the file to the kit", "Opening slides.pdf", "PDF", "Handout")
	if keys := s.keys("uploads/"); len(keys) != 0 {
		t.Errorf("the upload is still there after it was kept: %v", keys)
	}
	sum := sha256.Sum256(samplePDF)
	blob := hex.EncodeToString(sum[:])
	if keys := s.keys("blobs/"); len(keys) != 1 || keys[0] != "blobs/"+blob {
		t.Errorf("blobs: %v, want blobs/%s", keys, blob)
	}
	// The form is sent without a title first: the error, and the upload is not lost.
	m := fileToken.FindStringSubmatch(r.Body)
	from := fromField.FindStringSubmatch(r.Body)[1]
	bad := s.post("/kits/3/files", url.Values{"file": {html.UnescapeString(m[1])}, "from": {from}, "title": {""}, "alternative": {handout}, "note": {"Slides"}})
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("no title: %d", bad.Status)
	}
	mustContain(t, bad.Body, "Enter the file’s title", "Opening slides.pdf", `value="`+handout+`" selected`)
	ok := s.post("/kits/3/files", url.Values{"file": {html.UnescapeString(m[1])}, "from": {from}, "title": {"Opening slides"}, "alternative": {""}, "note": {"Slides"}})
	if ok.Status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", ok.Status, ok.Body)
	}
	page := s.get("/kits/3")
	mustContain(t, page.Body, "Opening slides", "Files without an HTML alternative", "No HTML alternative", "(PDF, "+pg.FileSizeText(int64(len(samplePDF)))+")")

	// The same content uploaded again is the same blob, stored once.
	s.addFile("copy.pdf", samplePDF, "The same slides", handout)
	if keys := s.keys("blobs/"); len(keys) != 1 {
		t.Errorf("the same file twice is stored as %v", keys)
	}
	kit, _ := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if len(kit.Doc.Files) != 2 || kit.Doc.Files[0].Blob != blob || kit.Doc.Files[1].Alternative != handout {
		t.Fatalf("files: %+v", kit.Doc.Files)
	}
	if kit.Doc.Files[0].Name != "Opening slides.pdf" || kit.Doc.Files[0].Type != "application/pdf" || kit.Doc.Files[0].Size != int64(len(samplePDF)) {
		t.Errorf("file: %+v", kit.Doc.Files[0])
	}
	if revs, _ := s.App.Stores.Kits.KitRevisions(context.Background(), 3, pg.CoreKit); len(revs) != 4 || revs[0].Note != "Added The same slides" {
		t.Errorf("history: %+v", revs)
	}

	// The download: 303 to a presigned GET of the blob, as an attachment with the
	// original name, that works for 10 minutes.
	d := s.get("/kits/3/files/" + kit.Doc.Files[0].ID)
	if d.Status != http.StatusSeeOther {
		t.Fatalf("download: %d\n%s", d.Status, d.Body)
	}
	link, _ := url.Parse(d.Header.Get("Location"))
	q := link.Query()
	if !strings.HasSuffix(link.Path, "/blobs/"+blob) || q.Get("X-Amz-Expires") != "600" {
		t.Errorf("link %s: want blobs/%s for 600 seconds", link, blob)
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil || time.Since(signed).Abs() > time.Minute {
		t.Errorf("link signed at %q, want now", q.Get("X-Amz-Date"))
	}
	// Used after it expired, S3 refuses the link (the stand-in does not check: the
	// link says when it stops working, 10 minutes after it was made).
	expires, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
	if after := signed.Add(time.Duration(expires) * time.Second); after.After(time.Now().Add(11*time.Minute)) || after.Before(time.Now().Add(9*time.Minute)) {
		t.Errorf("the link works until %v, want 10 minutes from now", after)
	}
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, samplePDF) {
		t.Errorf("downloaded %d bytes, not the file", len(got))
	}
	if _, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); params["filename"] != "Opening slides.pdf" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	if s.get("/kits/3/files/f-nosuchfile").Status != http.StatusNotFound {
		t.Error("a file that is not in the kit is not 404")
	}
}

func TestAnUploadOverTheSizeLimitIsRefusedAndNothingIsKept(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	big := make([]byte, pg.MaxKitFileSize+1)
	copy(big, samplePDF)
	r := s.uploadForm().post(t, "huge.pdf", big, nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "<Code>EntityTooLarge</Code>") {
		t.Errorf("50 MB and a byte: %d\n%.300s", r.Status, r.Body)
	}
	if r := s.uploadForm().post(t, "empty.pdf", nil, nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "<Code>EntityTooSmall</Code>") {
		t.Errorf("an empty file: %d\n%.300s", r.Status, r.Body)
	}
	if keys := s.keys(""); len(keys) != 2 { // the kit's document and its HTML
		t.Errorf("the bucket holds %v", keys)
	}
}

func TestAFileOfTheWrongTypeIsRefusedWithTheReasonAndDeleted(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	for name, content := range map[string][]byte{
		"page.pdf":  []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"),
		"setup.exe": append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 200)...),
		"talk.pptx": []byte("PK\x03\x04 this is no presentation"),
	} {
		r := s.upload(name, content)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", name, r.Status)
		}
		mustContain(t, r.Body, "There is a problem", "The selected file must be a PDF, PPTX, DOCX, ODP, ODT, PNG, JPEG, CSV or TXT", `name="file" type="file"`)
	}
	if keys := append(s.keys("uploads/"), s.keys("blobs/")...); len(keys) != 0 {
		t.Errorf("refused files are still there: %v", keys)
	}
	kit, _ := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if len(kit.Doc.Files) != 0 {
		t.Errorf("the kit has files: %+v", kit.Doc.Files)
	}
}

func TestTheUploadPolicyIsEnforcedExpiryKeyAndRedirect(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	form := s.uploadForm()
	for name, change := range map[string]map[string]string{
		"a key outside the upload's prefix": {"key": "blobs/" + strings.Repeat("0", 64)},
		"a redirect to another site":        {"success_action_redirect": "https://evil.example/"},
		"a field the policy does not name":  {"acl": "public-read"},
	} {
		r := form.post(t, "slides.pdf", samplePDF, change)
		if r.Status != http.StatusForbidden && r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d\n%s", name, r.Status, r.Body)
		}
	}
	s.Clock.Add(pg.UploadFormTTL + 2*time.Minute) // the policy was signed a little after the clock started
	r := form.post(t, "slides.pdf", samplePDF, nil)
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Policy expired") {
		t.Errorf("expired policy: %d\n%s", r.Status, r.Body)
	}
	if keys := s.keys("uploads/"); len(keys) != 0 {
		t.Errorf("refused uploads were stored: %v", keys)
	}
}

func TestAnUploadTokenWorksOnce(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	r := s.uploadForm().post(t, "slides.pdf", samplePDF, nil)
	back := r.Header.Get("Location")
	if first := s.get(back); first.Status != http.StatusOK {
		t.Fatalf("first use: %d\n%s", first.Status, first.Body)
	}
	second := s.get(back)
	if second.Status != http.StatusConflict {
		t.Errorf("second use: %d", second.Status)
	}
	mustContain(t, second.Body, "This upload has already been used. Upload the file again.")
	// Another person cannot use someone's token either.
	other := testenv.Address("kit-other")
	if err := s.App.Services.Network.AppointFacilitator(context.Background(), pg.Caller{Email: s.admin, Admin: true}, "midlands", other); err != nil {
		t.Fatal(err)
	}
	r = s.uploadForm().post(t, "slides.pdf", samplePDF, nil)
	s.as(other)
	if got := s.get(r.Header.Get("Location")); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "could not be checked") {
		t.Errorf("someone else's token: %d", got.Status)
	}
}

func TestAnUploadNeverCompletedLeavesNoFileInTheKit(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	s.createKit()
	// The form opened, and the browser sent back without the file ever arriving.
	form := s.uploadForm()
	back := form.field("success_action_redirect")
	key := strings.ReplaceAll(form.field("key"), "${filename}", "slides.pdf")
	r := s.get(back + "&key=" + url.QueryEscape(key))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "The file did not arrive") {
		t.Errorf("no upload: %d\n%s", r.Status, r.Body)
	}
	// A key S3 did not send for this token.
	form = s.uploadForm()
	if r := s.get(form.field("success_action_redirect") + "&key=" + url.QueryEscape("uploads/other/slides.pdf")); r.Status != http.StatusBadRequest {
		t.Errorf("another key: %d", r.Status)
	}
	// Uploaded and kept, but never added: the kit has no file.
	if r := s.upload("slides.pdf", samplePDF); r.Status != http.StatusOK {
		t.Fatalf("upload: %d", r.Status)
	}
	kit, _ := s.App.Services.Kits.CoreKit(context.Background(), pg.Caller{Email: s.admin, Admin: true}, 3)
	if len(kit.Doc.Files) != 0 || kit.Head.Number != 1 {
		t.Errorf("the kit changed: revision %d, files %+v", kit.Head.Number, kit.Doc.Files)
	}
	if page := s.get("/kits/3"); !strings.Contains(page.Body, "The kit has no files yet.") {
		t.Error("the kit page lists a file")
	}
}
