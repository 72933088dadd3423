package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

// SES down does not stop a sign-up: the confirmation waits in the outbox, which tries
// again, and arrives once when SES is back.
func TestASignupWhileSESIsDownSucceedsAndItsEmailArrivesOnceSESIsBack(t *testing.T) {
	t.Parallel()
	ses := testenv.NewFaultySES(t)
	s := newSiteWithSES(t, nil, ses.URL)
	email := testenv.Address("ses-down")

	ses.Fail(1 << 30)
	r := s.post("/join/groups", joinForm(email))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/join/check-email" {
		t.Fatalf("with SES down: %d to %q, want 303 to /join/check-email\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if n := len(testenv.Mail(t, email)); n != 0 {
		t.Fatalf("%d emails sent while SES was down", n)
	}
	if ses.Requests() == 0 {
		t.Fatal("the outbox never tried SES")
	}

	ses.Fail(0)
	mail := testenv.MailEventually(t, email, 1)
	if len(mail) != 1 {
		t.Fatalf("%d emails once SES was back, want 1", len(mail))
	}
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, testenv.Link(t, mail[0].Body.Text, "/join/confirm"))}}); r.Status != http.StatusOK {
		t.Fatalf("confirming after SES came back: %d", r.Status)
	}
	if n := len(testenv.MailEventually(t, email, 2)); n != 2 {
		t.Fatalf("%d emails after confirming, want the confirmation and the welcome", n)
	}
}

func TestABriefSESOutageIsRetriedAndSendsOnce(t *testing.T) {
	t.Parallel()
	ses := testenv.NewFaultySES(t)
	s := newSiteWithSES(t, nil, ses.URL)
	email := testenv.Address("ses-blip")
	ses.Fail(2) // the SDK's retries get through on the third attempt
	s.join(email)
	if n := len(testenv.Mail(t, email)); n != 1 {
		t.Fatalf("%d emails, want exactly 1", n)
	}
	if got := ses.Requests(); got != 3 {
		t.Errorf("%d requests reached SES, want 3 (two failures, one success)", got)
	}
}

func TestConfirmingTwiceAtOnceWelcomesOnce(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("double-click")
	tok := tokenOf(t, s.join(email))

	const clicks = 6
	var wg sync.WaitGroup
	statuses := make(chan int, clicks)
	form := url.Values{"token": {tok}}.Encode()
	for range clicks {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/join/confirm", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := s.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusGone:
		default:
			t.Errorf("a click got %d", st)
		}
	}
	if ok != 1 {
		t.Errorf("%d clicks confirmed, want exactly 1", ok)
	}
	welcomes := 0
	for _, m := range testenv.Mail(t, email) {
		if m.Subject == "You have joined Peer Groups" {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("%d welcome emails, want exactly 1", welcomes)
	}
}

// SES down while confirming: the membership is confirmed, and the welcome, written in
// the same transaction, arrives once when SES is back.
func TestConfirmingWhileSESIsDownConfirmsAndWelcomesOnceSESIsBack(t *testing.T) {
	t.Parallel()
	ses := testenv.NewFaultySES(t)
	s := newSiteWithSES(t, nil, ses.URL)
	email := testenv.Address("welcome-down")
	link := s.join(email)
	ses.Fail(1 << 30)
	r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm with SES down: %d", r.Status)
	}
	mustContain(t, r.Body, "You have joined")
	person := s.person(email)
	if !person.IsMember("midlands") {
		t.Fatal("the membership was not confirmed because the welcome email failed")
	}
	if n := len(testenv.Mail(t, email)); n != 1 {
		t.Fatalf("%d emails while SES was down, want only the confirmation", n)
	}
	ses.Fail(0)
	welcomes := 0
	for _, m := range testenv.MailEventually(t, email, 2) {
		if m.Subject == "You have joined Peer Groups" {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("%d welcome emails once SES was back, want exactly 1", welcomes)
	}
}
