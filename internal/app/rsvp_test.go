package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// rsvpEvent is a published round 1 whose London event has capacity places, with the
// site's clock a month before it.
type rsvpEvent struct {
	s     *site
	admin pg.Caller
}

func newRSVPEvent(t *testing.T, capacity int) *rsvpEvent {
	t.Helper()
	return newRSVPEventWith(t, capacity, nil)
}

// newRSVPEventWith is newRSVPEvent on a site with more configuration (extra).
func newRSVPEventWith(t *testing.T, capacity int, extra map[string]string) *rsvpEvent {
	t.Helper()
	admin := testenv.Address("admin")
	if extra == nil {
		extra = map[string]string{}
	}
	extra["ADMIN_EMAILS"] = admin
	s := newSite(t, extra)
	s.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, pg.London))
	e := &rsvpEvent{s: s, admin: pg.Caller{Email: admin, Admin: true}}
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, pg.London)
	if err := s.App.Services.Rounds.CreateRound(ctx, e.admin, pg.Round{Number: 1, Title: "Service assessments", Summary: "How to prepare.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		t.Fatal(err)
	}
	day := start.AddDate(0, 0, 7)
	if err := s.App.Services.Rounds.SetEvent(ctx, e.admin, pg.Event{Round: 1, GroupID: "london", Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), Venue: "Guildhall", Capacity: capacity}); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Services.Rounds.Publish(ctx, e.admin, 1); err != nil {
		t.Fatal(err)
	}
	return e
}

// person is someone with the RSVP link of their announcement.
type person struct {
	email, name, token string
}

func (e *rsvpEvent) person(t *testing.T, label string) person {
	t.Helper()
	p := person{email: testenv.Address(label), name: strings.ToUpper(label[:1]) + label[1:]}
	token, err := e.s.App.Services.Rounds.Links.Seal(links.Claims{Purpose: links.RSVP, Email: p.email, Name: p.name, Subject: "1/london"}, announce.RSVPLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	p.token = token
	return p
}

// visitor is a browser that has opened an RSVP link, ready to post its form.
type visitor struct {
	site   string
	client *http.Client
	token  string
}

// open follows a person's RSVP link in a browser of its own.
func (e *rsvpEvent) open(t *testing.T, p person) *visitor {
	t.Helper()
	v := &visitor{site: e.s.URL, client: newClient(), token: p.token}
	resp, err := v.client.Get(e.s.URL + "/rsvp?answer=going&token=" + url.QueryEscape(p.token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`action="/rsvp"`)) {
		t.Fatalf("RSVP page: %d\n%s", resp.StatusCode, body)
	}
	return v
}

// answer saves an answer and returns what the page says. Safe to call from many
// goroutines at once (a visitor each).
func (v *visitor) answer(ans string) (string, error) {
	form := url.Values{"token": {v.token}, "answer": {ans}}
	resp, err := v.client.PostForm(v.site+"/rsvp", form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answer %s: %d\n%s", ans, resp.StatusCode, body)
	}
	return string(body), nil
}

// race posts every answer at the same moment and returns the pages, in order.
func race(t *testing.T, visitors []*visitor, answers []string) []string {
	t.Helper()
	pages := make([]string, len(visitors))
	errs := make([]error, len(visitors))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, v := range visitors {
		wg.Go(func() {
			<-start
			pages[i], errs[i] = v.answer(answers[i])
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return pages
}

// toldBy is what a saved answer's page told the person: going, waiting (with their
// place on the waiting list, 0 if it does not say) or not going.
func toldBy(t *testing.T, page string) (string, int) {
	t.Helper()
	switch {
	case strings.Contains(page, "You are going"):
		return pg.Going, 0
	case strings.Contains(page, "You are on the waiting list"):
		n := 0
		if m := waitingNumber.FindStringSubmatch(page); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return pg.Waiting, n
	case strings.Contains(page, "You are not going"):
		return pg.NotGoing, 0
	}
	t.Fatalf("the page does not say what was saved:\n%s", page)
	return "", 0
}

var waitingNumber = regexp.MustCompile(`You are number (\d+) on the waiting list`)

// answers returns everyone's answer as the facilitator sees it, in the facilitator's
// order (going, then the waiting list from its head), with the event's count of places taken.
func (e *rsvpEvent) answers(t *testing.T) ([]pg.Attendance, map[string]string, int) {
	t.Helper()
	ctx := context.Background()
	all, err := e.s.App.Services.RSVPs.Attendees(ctx, e.admin, 1, "london")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, a := range all {
		status[a.Email] = a.Status
	}
	_, events, err := e.s.App.Services.Rounds.Round(ctx, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("round 1: %v %v", events, err)
	}
	return all, status, events[0].Going
}

func count(status map[string]string, want string) int {
	n := 0
	for _, s := range status {
		if s == want {
			n++
		}
	}
	return n
}

// placeFree counts the "a place is free for you" emails sent to an address.
func placeFree(t *testing.T, email string) int {
	t.Helper()
	n := 0
	for _, m := range testenv.Mail(t, email) {
		if strings.HasPrefix(m.Subject, "A place is free for you") {
			n++
		}
	}
	return n
}

func TestOneRSVPLinkPostedTwentyTimesAtOnceTakesOnePlace(t *testing.T) {
	t.Parallel()
	e := newRSVPEvent(t, 20)
	forwarded := e.person(t, "forwarder")
	var visitors []*visitor
	var answers []string
	for range 20 { // one email forwarded to twenty people, who all say yes at once
		visitors = append(visitors, e.open(t, forwarded))
		answers = append(answers, pg.Going)
	}
	for i, page := range race(t, visitors, answers) {
		if got, _ := toldBy(t, page); got != pg.Going {
			t.Errorf("post %d was told %q, want going", i+1, got)
		}
	}
	all, status, going := e.answers(t)
	if len(all) != 1 || status[forwarded.email] != pg.Going {
		t.Fatalf("answers: %+v, want the one person going", all)
	}
	if going != 1 {
		t.Fatalf("the event counts %d places taken by one link, want 1", going)
	}
}

func TestTwentyPeopleRacingForFivePlacesGetThemInArrivalOrder(t *testing.T) {
	t.Parallel()
	e := newRSVPEvent(t, 5)
	var people []person
	var visitors []*visitor
	var answers []string
	for i := range 20 {
		p := e.person(t, fmt.Sprintf("racer%02d", i))
		people = append(people, p)
		visitors = append(visitors, e.open(t, p))
		answers = append(answers, pg.Going)
	}
	pages := race(t, visitors, answers)

	// Five were told they are going; fifteen that they wait, each at a different place
	// on the list: 1 to 15, the order their answers arrived in.
	told := map[string]string{}
	byPlace := map[int]person{}
	for i, page := range pages {
		got, place := toldBy(t, page)
		told[people[i].email] = got
		if got == pg.Waiting {
			if place == 0 {
				t.Fatalf("the waiting list page does not say where on it the person is:\n%s", page)
			}
			if other, taken := byPlace[place]; taken {
				t.Fatalf("%s and %s were both told they are number %d on the waiting list", other.email, people[i].email, place)
			}
			byPlace[place] = people[i]
		}
	}
	if count(told, pg.Going) != 5 || len(byPlace) != 15 {
		t.Fatalf("%d were told they are going and %d that they wait, want 5 and 15", count(told, pg.Going), len(byPlace))
	}
	for place := 1; place <= 15; place++ {
		if _, ok := byPlace[place]; !ok {
			t.Fatalf("nobody is number %d on the waiting list: %v", place, byPlace)
		}
	}

	// What was stored is what they were told, and the facilitator's list shows the
	// waiting list in the same order.
	all, status, going := e.answers(t)
	if count(status, pg.Going) != 5 || count(status, pg.Waiting) != 15 || going != 5 {
		t.Fatalf("stored: %d going, %d waiting, %d places taken; want 5, 15, 5", count(status, pg.Going), count(status, pg.Waiting), going)
	}
	for email, s := range told {
		if status[email] != s {
			t.Errorf("%s was told %q, stored %q", email, s, status[email])
		}
	}
	var list []string
	for _, a := range all {
		if a.Status == pg.Waiting {
			list = append(list, a.Email)
		}
	}
	for place := 1; place <= 15; place++ {
		if list[place-1] != byPlace[place].email {
			t.Fatalf("the facilitator's waiting list has %s at number %d, who was told number %d", list[place-1], place, slices.Index(list, byPlace[place].email)+1)
		}
	}

	// Each place given up goes to the next on the list, who is emailed.
	goingPeople := 0
	for i, p := range people {
		if told[p.email] != pg.Going {
			continue
		}
		goingPeople++
		page, err := visitors[i].answer(pg.NotGoing)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := toldBy(t, page); got != pg.NotGoing {
			t.Fatalf("withdrawing: told %q", got)
		}
		next := byPlace[goingPeople]
		if _, status, _ := e.answers(t); status[next.email] != pg.Going {
			t.Fatalf("place %d given up: number %d on the waiting list is %q, want going", goingPeople, goingPeople, status[next.email])
		}
		if n := placeFree(t, next.email); n != 1 {
			t.Fatalf("number %d on the waiting list was sent %d emails that a place is free, want 1", goingPeople, n)
		}
	}
}
