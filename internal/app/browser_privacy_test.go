package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// A person downloads and then deletes their data from their manage page, through the
// links emailed to them, and nothing about them is left but the pseudonymous audit
// entry; every page passes axe-core.
func TestExportingAndErasingInABrowser(t *testing.T) {
	s := newSite(t, map[string]string{"RECEIVING_BUCKET": testenv.Bucket(t, s3exports.NewClient(testenv.AWSConfig(t)))})
	b := newBrowser(t)
	email := testenv.Address("privacy-browser")
	welcome := s.joinAndConfirm(email)
	// They wrote to us, with an attachment: both are in the receiving bucket.
	storeMail(t, s, email, "A question", "My notes, from "+email)
	if held := bucketsMention(t, s, email); len(held) != 2 {
		t.Fatalf("the receiving bucket holds %v, want their message and its attachment", held)
	}

	b.do("open the privacy notice", chromedp.Navigate(s.URL+"/privacy"), waitFor("How long we keep it"))
	b.checkAccessibility("privacy notice")

	manage := testenv.Link(t, welcome.Body.Text, "/manage")
	b.do("open manage your membership", chromedp.Navigate(manage), waitFor("Your data"))
	b.checkAccessibility("manage, with your data")
	b.do("ask to download my data", chromedp.Click(chromedp.CSS(`form[action="/manage/export"] button`)), waitFor("Check your email"))
	b.checkAccessibility("export asked")
	export := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/export")
	b.do("follow the export link", chromedp.Navigate(export), waitFor("Download my data"))
	b.checkAccessibility("export link")

	b.do("open manage your membership again", chromedp.Navigate(manage), waitFor("Your data"))
	b.do("ask to delete my data", chromedp.Click(chromedp.CSS(`form[action="/manage/erase"] button`)), waitFor("Check your email"))
	b.checkAccessibility("erase asked")
	erase := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/erase")
	b.do("follow the erase link", chromedp.Navigate(erase), waitFor("It cannot be undone"))
	b.checkAccessibility("erase link")
	b.do("delete my data", chromedp.Click(chromedp.CSS(`form[action="/privacy/erase"] button`)), waitFor("Your data has been deleted"))
	b.checkAccessibility("erased")
	if left := remains(t, s, email); len(left) != 0 {
		t.Errorf("after erasure in the browser the tables still mention the address:\n%v", left)
	}
	if left := bucketsMention(t, s, email); len(left) != 0 {
		t.Errorf("after erasure in the browser the buckets still mention the address: %v", left)
	}
	b.do("follow the used erase link", chromedp.Navigate(erase), waitFor("already been used"))
	b.checkAccessibility("used erase link")
}
