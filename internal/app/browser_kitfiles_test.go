package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A facilitator uploads files to the core kit in a browser with JavaScript off: the
// form goes to S3 (here the front that acts as S3), which sends the browser back; a
// file of the wrong type is refused, a PDF is named and added. axe checks every page.
func TestKitFilesUploadInABrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	system := pg.Caller{Email: admin, Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, system, pg.Round{Number: 6, Title: "Service assessments", Summary: "Passing one.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Services.Kits.CreateCoreKit(ctx, system, 6, pg.KitDoc{Title: "Assessments", Summary: "A morning.", Licence: pg.LicenceOGL}); err != nil {
		t.Fatal(err)
	}
	kit, _ := s.App.Services.Kits.CoreKit(ctx, system, 6)
	if _, err := s.App.Services.Kits.SaveSection(ctx, system, 6, kit.Revision, pg.KitSection{ID: "s-slides", Kind: pg.SectionSlides, Audience: pg.AudienceParticipant, Title: "The slides as a page", Body: "What an assessment is.\n"}, "Slides as HTML"); err != nil {
		t.Fatal(err)
	}
	fac := testenv.Address("fac")
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdf, page := filepath.Join(dir, "Assessment slides.pdf"), filepath.Join(dir, "page.pdf")
	os.WriteFile(pdf, samplePDF, 0o600)
	os.WriteFile(page, []byte("<!DOCTYPE html><html><body>not a PDF</body></html>"), 0o600)

	b := newBrowser(t)
	b.signIn(t, s, fac, "Your groups")
	b.do("turn JavaScript off", scripts(false))
	check := func(name string) {
		t.Helper()
		b.do("turn JavaScript on for axe", scripts(true))
		b.checkAccessibility(name)
		b.do("turn JavaScript off", scripts(false))
	}
	b.do("open the upload page", chromedp.Navigate(s.URL+"/kits/6/files/new"), waitFor("Upload a file"))
	check("upload a file")
	b.do("upload HTML named .pdf",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{page}),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("There is a problem"),
	)
	check("upload a file, refused")
	if text := b.text(); !strings.Contains(text, "The selected file must be a PDF, PPTX, DOCX, ODP, ODT, PNG, JPEG, CSV or TXT") {
		t.Fatalf("refused upload:\n%s", text)
	}
	b.do("upload the PDF",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdf}),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Add the file to the kit"),
	)
	check("add the file")
	b.do("name it",
		chromedp.SendKeys(chromedp.ID("title"), "Assessment slides"),
		chromedp.SetValue(chromedp.ID("alternative"), "s-slides"),
		chromedp.SendKeys(chromedp.ID("note"), "The slides"),
		chromedp.Click(chromedp.CSS("main form button")),
		waitFor("Your changes have been saved"),
	)
	check("the core kit with a file")
	if text := b.text(); !strings.Contains(text, "Assessment slides") || strings.Contains(text, "Files without an HTML alternative") {
		t.Fatalf("the kit page:\n%s", text)
	}
}
