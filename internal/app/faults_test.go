package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

func TestASignupWhileSESIsDownSaysSoAndLosesNothing(t *testing.T) {
	ses := testenv.NewFaultySES(t)
	s := newSiteWithSES(t, nil, ses.URL)
	email := testenv.Address("ses-down")

	ses.Fail(100)
	r := s.post("/join/groups", joinForm(email))
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("with SES down: %d, want 503\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "We could not send the email just now")
	if n := len(testenv.Mail(t, email)); n != 0 {
		t.Fatalf("%d emails sent while SES was down", n)
	}

	ses.Fail(0)
	link := s.join(email)
	if n := len(testenv.Mail(t, email)); n != 1 {
		t.Fatalf("%d emails after trying again, want 1", n)
	}
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirming after SES came back: %d", r.Status)
	}
}

func TestABriefSESOutageIsRetriedAndSendsOnce(t *testing.T) {
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
	s := newSite(t, nil)
	email := testenv.Address("double-click")
	tok := tokenOf(t, s.join(email))
	s.get("/join") // a CSRF cookie and token to share

	const clicks = 6
	var wg sync.WaitGroup
	statuses := make(chan int, clicks)
	form := url.Values{"token": {tok}, "csrf": {s.csrf}}.Encode()
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

func TestConfirmingWhileSESIsDownStillConfirms(t *testing.T) {
	ses := testenv.NewFaultySES(t)
	s := newSiteWithSES(t, nil, ses.URL)
	email := testenv.Address("welcome-down")
	link := s.join(email)
	ses.Fail(100)
	r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm with SES down: %d", r.Status)
	}
	mustContain(t, r.Body, "You have joined")
	person, _ := s.App.Store.Person(context.Background(), email)
	if !person.IsMember("midlands") {
		t.Fatal("the membership was not confirmed because the welcome email failed")
	}
}
