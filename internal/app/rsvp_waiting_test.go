package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

func TestWithdrawalsRacingPromotionsKeepEveryPlace(t *testing.T) {
	t.Parallel()
	e := newRSVPEvent(t, 5)
	var going, waiting, newcomers []person
	open := map[string]*visitor{}
	for i := range 15 { // five places taken, ten waiting, one after the other
		p := e.person(t, fmt.Sprintf("early%02d", i))
		open[p.email] = e.open(t, p)
		page, err := open[p.email].answer(pg.Going)
		if err != nil {
			t.Fatal(err)
		}
		got, place := toldBy(t, page)
		switch {
		case i < 5 && got == pg.Going:
			going = append(going, p)
		case i >= 5 && got == pg.Waiting:
			waiting = append(waiting, p)
		default:
			t.Fatalf("answer %d was told %q (number %d)", i+1, got, place)
		}
	}
	for i := range 5 {
		p := e.person(t, fmt.Sprintf("late%02d", i))
		open[p.email] = e.open(t, p)
		newcomers = append(newcomers, p)
	}

	// At once: everyone going gives up their place (clicking twice), three people on
	// the waiting list (who may be given a place meanwhile) withdraw, and five more say
	// they are going.
	var visitors []*visitor
	var answers []string
	withdrawn := map[string]bool{}
	for _, p := range going {
		second := e.open(t, p)
		visitors, answers = append(visitors, open[p.email], second), append(answers, pg.NotGoing, pg.NotGoing)
		withdrawn[p.email] = true
	}
	for _, i := range []int{0, 3, 6} {
		p := waiting[i]
		visitors, answers = append(visitors, open[p.email]), append(answers, pg.NotGoing)
		withdrawn[p.email] = true
	}
	for _, p := range newcomers {
		visitors, answers = append(visitors, open[p.email]), append(answers, pg.Going)
	}
	race(t, visitors, answers)

	// Twelve still want to go: the event is full (5 going) and seven wait.
	all, status, taken := e.answers(t)
	if count(status, pg.Going) != 5 || taken != 5 {
		t.Fatalf("%d going, %d places taken, want 5 and 5 (%+v)", count(status, pg.Going), taken, all)
	}
	if count(status, pg.Waiting) != 7 {
		t.Fatalf("%d waiting, want 7: going + waiting must be everyone who said yes and did not withdraw", count(status, pg.Waiting))
	}
	for email := range withdrawn {
		if status[email] != pg.NotGoing {
			t.Errorf("%s withdrew but is %q", email, status[email])
		}
	}

	// The places went to the first five left on the waiting list, in order; the other
	// two still head it, before everyone who answered later.
	var stayed []person
	for _, p := range waiting {
		if !withdrawn[p.email] {
			stayed = append(stayed, p)
		}
	}
	for i, p := range stayed {
		want := pg.Going
		if i >= 5 {
			want = pg.Waiting
		}
		if status[p.email] != want {
			t.Errorf("number %d of those left on the waiting list is %q, want %q", i+1, status[p.email], want)
		}
	}
	var list []string
	for _, a := range all {
		if a.Status == pg.Waiting {
			list = append(list, a.Email)
		}
	}
	if len(list) < 2 || list[0] != stayed[5].email || list[1] != stayed[6].email {
		t.Errorf("the waiting list does not start with the two who waited longest")
	}

	// Every person given a place was emailed once; nobody else was told a place is free.
	for i, p := range stayed {
		want := map[bool]int{true: 1, false: 0}[i < 5]
		if n := placeFree(t, p.email); n != want {
			t.Errorf("number %d left on the waiting list was sent %d emails that a place is free, want %d", i+1, n, want)
		}
	}
	for _, p := range append(slices.Clone(going), newcomers...) {
		if n := placeFree(t, p.email); n != 0 {
			t.Errorf("%s was sent %d emails that a place is free, want 0", p.email, n)
		}
	}
	for _, i := range []int{0, 3, 6} { // promoted before their withdrawal arrived, or not
		if n := placeFree(t, waiting[i].email); n > 1 {
			t.Errorf("%s was sent %d emails that a place is free", waiting[i].email, n)
		}
	}
}

func TestAnswersCancelledForATransactionConflictAreTriedAgain(t *testing.T) {
	t.Parallel()
	e := newRSVPEvent(t, 5)
	proxy := testenv.NewConflictingDynamo(t, 2)
	dynamo.UseClient(e.s.App.Store, dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
		o.DisableValidateResponseChecksum = true
	}))
	var visitors []*visitor
	var answers []string
	for i := range 10 {
		visitors = append(visitors, e.open(t, e.person(t, fmt.Sprintf("conflict%02d", i))))
		answers = append(answers, pg.Going)
	}
	places := map[int]bool{}
	for _, page := range race(t, visitors, answers) {
		if got, place := toldBy(t, page); got == pg.Waiting {
			places[place] = true
		}
	}
	if proxy.Cancelled() == 0 {
		t.Fatal("no transaction was cancelled for a conflict: the test tests nothing")
	}
	_, status, going := e.answers(t)
	if count(status, pg.Going) != 5 || count(status, pg.Waiting) != 5 || going != 5 {
		t.Fatalf("after %d conflicts: %d going, %d waiting, %d places taken; want 5, 5, 5", proxy.Cancelled(), count(status, pg.Going), count(status, pg.Waiting), going)
	}
	for place := 1; place <= 5; place++ {
		if !places[place] {
			t.Fatalf("nobody was told they are number %d on the waiting list: %v", place, places)
		}
	}
}

func TestMorePlacesGoToThoseWaitingLongest(t *testing.T) {
	t.Parallel()
	e := newRSVPEvent(t, 1)
	var people []person
	for i := range 3 {
		p := e.person(t, fmt.Sprintf("patient%d", i))
		if _, err := e.open(t, p).answer(pg.Going); err != nil {
			t.Fatal(err)
		}
		people = append(people, p)
	}
	_, events, err := e.s.App.Services.Rounds.Round(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	bigger := events[0]
	bigger.Capacity = 2
	if err := e.s.App.Services.Rounds.SetEvent(context.Background(), e.admin, bigger); err != nil {
		t.Fatal(err)
	}
	_, status, going := e.answers(t)
	if status[people[1].email] != pg.Going || status[people[2].email] != pg.Waiting || going != 2 {
		t.Fatalf("with a second place: %v, %d places taken; want the first waiting going, the second still waiting", status, going)
	}
	if placeFree(t, people[1].email) != 1 || placeFree(t, people[2].email) != 0 {
		t.Fatal("the person given the new place was not emailed once, or the other was")
	}
}
