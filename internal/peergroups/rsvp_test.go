package peergroups_test

import (
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestDecideAnswer(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, pg.London)
	earlier := at.Add(-time.Hour)
	me := pg.Attendance{Round: 1, Group: "london", Email: "me@example.org", Name: "Me"}
	answered := func(status string, seq int64) pg.Attendance {
		a := me
		a.Status, a.Seq, a.Since = status, seq, earlier
		return a
	}
	waiter := func(email string, seq int64, since time.Time) pg.Attendance {
		return pg.Attendance{Email: email, Status: pg.Waiting, Seq: seq, Since: since}
	}
	// The first on the list by the order answers were committed, though their clock
	// time is later: the clock does not decide the order.
	first, second := waiter("first@example.org", 3, at), waiter("second@example.org", 4, earlier)

	tests := []struct {
		name           string
		state          pg.AnswerState
		answer         string
		changed        bool
		status         string
		going, waiting int
		position       int
		promoted       string
	}{
		{name: "going takes a free place", state: pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 1, Answers: 7}},
			answer: pg.Going, changed: true, status: pg.Going, going: 1},
		{name: "going when the event is full joins the end of the waiting list", state: pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 2, Waiting: 2, Answers: 7}, Waiting: []pg.Attendance{first, second}},
			answer: pg.Going, changed: true, status: pg.Waiting, waiting: 1, position: 3},
		{name: "going again changes nothing", state: pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 1, Answers: 7}, Current: answered(pg.Going, 5)},
			answer: pg.Going, status: pg.Going},
		{name: "going while waiting changes nothing", state: pg.AnswerState{Places: pg.Places{Capacity: 1, Going: 1, Waiting: 1, Answers: 7}, Current: answered(pg.Waiting, 5)},
			answer: pg.Going, status: pg.Waiting},
		{name: "a place freed by a bigger event goes to who waits, not to a newcomer", state: pg.AnswerState{Places: pg.Places{Capacity: 3, Going: 2, Waiting: 2, Answers: 7}, Waiting: []pg.Attendance{second, first}},
			answer: pg.Going, changed: true, status: pg.Waiting, going: 1, waiting: 0, position: 2, promoted: first.Email},
		{name: "a place given up goes to who has waited longest", state: pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 2, Waiting: 2, Answers: 7}, Current: answered(pg.Going, 1), Waiting: []pg.Attendance{second, first}},
			answer: pg.NotGoing, changed: true, status: pg.NotGoing, going: 0, waiting: -1, promoted: first.Email},
		{name: "a place given up with nobody waiting is free", state: pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 2, Answers: 7}, Current: answered(pg.Going, 1)},
			answer: pg.NotGoing, changed: true, status: pg.NotGoing, going: -1},
		{name: "leaving the waiting list gives nobody a place", state: pg.AnswerState{Places: pg.Places{Capacity: 1, Going: 1, Waiting: 2, Answers: 7}, Current: answered(pg.Waiting, 5), Waiting: []pg.Attendance{answered(pg.Waiting, 5), first}},
			answer: pg.NotGoing, changed: true, status: pg.NotGoing, waiting: -1},
		{name: "not going without an answer is recorded", state: pg.AnswerState{Places: pg.Places{Capacity: 1, Answers: 7}},
			answer: pg.NotGoing, changed: true, status: pg.NotGoing},
		{name: "not going again changes nothing", state: pg.AnswerState{Places: pg.Places{Capacity: 1, Answers: 7}, Current: answered(pg.NotGoing, 2)},
			answer: pg.NotGoing, status: pg.NotGoing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pg.DecideAnswer(tt.state, me, tt.answer, at)
			if c.Changed != tt.changed || c.Answer.Status != tt.status || c.Going != tt.going || c.Waiting != tt.waiting || c.Position != tt.position {
				t.Fatalf("got changed %v, %q, going %+d, waiting %+d, number %d; want %v, %q, %+d, %+d, %d",
					c.Changed, c.Answer.Status, c.Going, c.Waiting, c.Position, tt.changed, tt.status, tt.going, tt.waiting, tt.position)
			}
			if c.Previous != tt.state.Current {
				t.Errorf("the change is conditioned on %+v, want the answer read, %+v", c.Previous, tt.state.Current)
			}
			if tt.changed && (c.Answer.Seq != tt.state.Places.Answers+1 || !c.Answer.Since.Equal(at)) {
				t.Errorf("the new answer is number %d since %v, want %d since %v", c.Answer.Seq, c.Answer.Since, tt.state.Places.Answers+1, at)
			}
			switch {
			case tt.promoted == "" && c.Promoted != nil:
				t.Errorf("%s was given a place", c.Promoted.Email)
			case tt.promoted != "" && (c.Promoted == nil || c.Promoted.Email != tt.promoted):
				t.Errorf("promoted %+v, want %s", c.Promoted, tt.promoted)
			}
		})
	}
}

func TestDecideFill(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, pg.London)
	first := pg.Attendance{Email: "first@example.org", Status: pg.Waiting, Seq: 3}
	second := pg.Attendance{Email: "second@example.org", Status: pg.Waiting, Seq: 4}
	if c := pg.DecideFill(pg.AnswerState{Places: pg.Places{Capacity: 3, Going: 2, Waiting: 2}, Waiting: []pg.Attendance{second, first}}, at); !c.Changed || c.Promoted == nil || c.Promoted.Email != first.Email || c.Going != 1 || c.Waiting != -1 {
		t.Errorf("a free place and two waiting: %+v, want the first promoted", c)
	}
	if c := pg.DecideFill(pg.AnswerState{Places: pg.Places{Capacity: 2, Going: 2, Waiting: 2}, Waiting: []pg.Attendance{second, first}}, at); c.Changed {
		t.Errorf("no free place: %+v, want no change", c)
	}
	if c := pg.DecideFill(pg.AnswerState{Places: pg.Places{Capacity: 3, Going: 2}}, at); c.Changed {
		t.Errorf("nobody waiting: %+v, want no change", c)
	}
}
