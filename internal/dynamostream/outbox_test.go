package dynamostream

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type dones struct {
	ids  []string
	fail map[string]bool
}

func (d *dones) Do(_ context.Context, id string) error {
	d.ids = append(d.ids, id)
	if d.fail[id] {
		return errors.New("SES is down")
	}
	return nil
}

func loadOutbox(t *testing.T) events.DynamoDBEvent { return loadEvent(t, "outbox-insert.json") }

func TestAnOutboxItemOnTheStreamIsDone(t *testing.T) {
	d := &dones{}
	resp, err := (&OutboxHandler{Outbox: d, Log: slog.New(slog.DiscardHandler)}).Handle(context.Background(), loadOutbox(t))
	if err != nil || len(resp.BatchItemFailures) != 0 || len(d.ids) != 1 || d.ids[0] != "3f9a1c2b7d4e5f60a1b2c3d4e5f60718" {
		t.Fatalf("done %v, response %+v, %v", d.ids, resp, err)
	}
}

// After a failure the rest of the batch is reported too, so that Lambda delivers it
// again from the failed record; the records before it are not.
func TestAFailedOutboxItemAndTheRestOfItsBatchAreReported(t *testing.T) {
	ev := loadOutbox(t)
	first := ev.Records[0]
	var records []events.DynamoDBEventRecord
	for i, id := range []string{"a1", "b2", "c3"} {
		r := first
		r.Change.Keys = map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("OUTBOX#" + id), "sk": events.NewStringAttribute("OUTBOX")}
		r.Change.SequenceNumber = string(rune('1' + i))
		records = append(records, r)
	}
	ev.Records = records
	d := &dones{fail: map[string]bool{"b2": true}}
	resp, _ := (&OutboxHandler{Outbox: d, Log: slog.New(slog.DiscardHandler)}).Handle(context.Background(), ev)
	if len(d.ids) != 2 {
		t.Errorf("tried %v, want a1 and b2 only", d.ids)
	}
	if len(resp.BatchItemFailures) != 2 || resp.BatchItemFailures[0].ItemIdentifier != "2" || resp.BatchItemFailures[1].ItemIdentifier != "3" {
		t.Errorf("reported %+v, want records 2 and 3", resp.BatchItemFailures)
	}
}

func TestOtherRecordsAreNotOutboxItems(t *testing.T) {
	for name, change := range map[string]func(*events.DynamoDBEventRecord){
		"a modification":  func(r *events.DynamoDBEventRecord) { r.EventName = "MODIFY" },
		"a removal (TTL)": func(r *events.DynamoDBEventRecord) { r.EventName = "REMOVE" },
		"another item":    func(r *events.DynamoDBEventRecord) { r.Change.Keys["sk"] = events.NewStringAttribute("PROFILE") },
		"another partition": func(r *events.DynamoDBEventRecord) {
			r.Change.Keys["pk"] = events.NewStringAttribute("PERSON#a@example.org")
		},
		"a publication": func(r *events.DynamoDBEventRecord) { *r = loadOne(t) },
	} {
		ev := loadOutbox(t)
		change(&ev.Records[0])
		d := &dones{}
		(&OutboxHandler{Outbox: d, Log: slog.New(slog.DiscardHandler)}).Handle(context.Background(), ev)
		if len(d.ids) != 0 {
			t.Errorf("%s was done as outbox item %v", name, d.ids)
		}
	}
}

func loadOne(t *testing.T) events.DynamoDBEventRecord { return load(t).Records[0] }

func TestNoOutboxItemIsStartedWithoutTimeToSettleIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), OutboxMargin/2)
	defer cancel()
	d := &dones{}
	ev := loadOutbox(t)
	resp, _ := (&OutboxHandler{Outbox: d, Log: slog.New(slog.DiscardHandler)}).Handle(ctx, ev)
	if len(d.ids) != 0 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("done %v, reported %+v: want nothing started and the record reported", d.ids, resp.BatchItemFailures)
	}
}
