package dynamostream

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type runs struct {
	rounds []int
	err    error
}

func (r *runs) Run(_ context.Context, round int) error {
	r.rounds = append(r.rounds, round)
	return r.err
}

func load(t *testing.T) events.DynamoDBEvent {
	return loadEvent(t, "announce-publication.json")
}

func loadEvent(t *testing.T, name string) events.DynamoDBEvent {
	data, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestAPublicationOnTheStreamRunsItsRound(t *testing.T) {
	r := &runs{}
	h := &Handler{Announcer: r, Log: slog.New(slog.DiscardHandler)}
	resp, err := h.Handle(context.Background(), load(t))
	if err != nil || len(resp.BatchItemFailures) != 0 || len(r.rounds) != 1 || r.rounds[0] != 1 {
		t.Fatalf("rounds run %v, response %+v, %v", r.rounds, resp, err)
	}
}

func TestAnUnfinishedRunIsReportedForRedelivery(t *testing.T) {
	for _, cause := range []error{pg.ErrDeadline, pg.ErrUnsettled, errors.New("table unavailable")} {
		r := &runs{err: cause}
		h := &Handler{Announcer: r, Log: slog.New(slog.DiscardHandler), Pause: time.Millisecond}
		ev := load(t)
		resp, _ := h.Handle(context.Background(), ev)
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
			t.Errorf("%v: response %+v, want the record reported as failed", cause, resp)
		}
	}
}

func TestOtherRecordsAreIgnored(t *testing.T) {
	for name, change := range map[string]func(*events.DynamoDBEventRecord){
		"a modification": func(r *events.DynamoDBEventRecord) { r.EventName = "MODIFY" },
		"another item": func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage["sk"] = events.NewStringAttribute("EVENT#london")
		},
		"a round of nothing": func(r *events.DynamoDBEventRecord) { r.Change.NewImage["round"] = events.NewNumberAttribute("x") },
	} {
		ev := load(t)
		change(&ev.Records[0])
		r := &runs{}
		(&Handler{Announcer: r, Log: slog.New(slog.DiscardHandler)}).Handle(context.Background(), ev)
		if len(r.rounds) != 0 {
			t.Errorf("%s ran round %v", name, r.rounds)
		}
	}
}

func TestAnAdminsResumeOnTheStreamRunsItsRound(t *testing.T) {
	ev := loadEvent(t, "announce-resume.json")
	r := &runs{}
	h := &Handler{Announcer: r, Log: slog.New(slog.DiscardHandler)}
	if resp, err := h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 || len(r.rounds) != 1 || r.rounds[0] != 1 {
		t.Fatalf("rounds run %v, response %+v, %v", r.rounds, resp, err)
	}
}

// Lambda retries a failed stream record at once: a run that found recipients held by
// another run, which may be alive for up to a lease, waits before it says so, so that
// the retries outlast the lease; and never past its own deadline.
func TestARunThatFoundRecipientsHeldElsewherePausesBeforeTheRetry(t *testing.T) {
	h := &Handler{Announcer: &runs{err: pg.ErrUnsettled}, Log: slog.New(slog.DiscardHandler), Pause: 300 * time.Millisecond}
	began := time.Now()
	h.Handle(context.Background(), load(t))
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Fatalf("reported the record failed after %v, want a pause of 300 ms first", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	h.Pause = time.Hour
	h.Handle(ctx, load(t))
	if ctx.Err() != nil {
		t.Fatal("the pause ran into the deadline: Lambda would have killed the run before it reported the record")
	}
}

// A run the round's circuit breaker paused is done with its trigger: delivered again
// it would only find the round paused, for up to a day; an admin's resume inserts a
// new one.
func TestARunPausedByTheCircuitBreakerIsNotDeliveredAgain(t *testing.T) {
	r := &runs{err: pg.ErrPaused}
	h := &Handler{Announcer: r, Log: slog.New(slog.DiscardHandler), Pause: time.Millisecond}
	resp, err := h.Handle(context.Background(), load(t))
	if err != nil || len(resp.BatchItemFailures) != 0 || len(r.rounds) != 1 {
		t.Fatalf("rounds run %v, response %+v, %v: want it run once and not reported", r.rounds, resp, err)
	}
}
