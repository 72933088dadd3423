package dynamostream

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/announce"
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
	data, err := os.ReadFile("../../events/announce-publication.json")
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
	for _, cause := range []error{announce.ErrDeadline, announce.ErrUnsettled, errors.New("table unavailable")} {
		r := &runs{err: cause}
		h := &Handler{Announcer: r, Log: slog.New(slog.DiscardHandler)}
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
