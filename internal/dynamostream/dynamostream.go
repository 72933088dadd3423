// Package dynamostream turns the table's stream into work: a round publication
// arriving on the stream (an INSERT of ROUND#<n>/PUBLICATION, or of a
// PUBLICATION#RESUME#<time> item when an admin resumes a stalled round) runs its
// announcements.
// The announce function runs it in Lambda; the local server feeds it the same event
// type from DynamoDB Local's stream.
package dynamostream

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Runner runs a round's announcements.
type Runner interface {
	Run(ctx context.Context, round int) error
}

// Handler handles stream events for the announce function.
type Handler struct {
	Announcer Runner
	Log       *slog.Logger
	// Pause is how long a run that found recipients held by another run waits before
	// it reports the record failed (default 30 s): Lambda retries a stream record at
	// once, so without it the retries would run out long before the other run's lease.
	Pause time.Duration
}

// pause waits before a record is reported failed, ending a second before the deadline.
func (h *Handler) pause(ctx context.Context) {
	d := h.Pause
	if d == 0 {
		d = 30 * time.Second
	}
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline)-time.Second)
	}
	if d > 0 {
		pg.Sleep(ctx, d)
	}
}

// PublicationRound returns the round a stream record publishes, if it is one.
func PublicationRound(r events.DynamoDBEventRecord) (int, bool) {
	if r.EventName != "INSERT" {
		return 0, false
	}
	sk, ok := r.Change.NewImage[dynamo.SortKeyAttribute]
	if !ok || sk.DataType() != events.DataTypeString || !dynamo.IsPublication(sk.String()) {
		return 0, false
	}
	round, ok := r.Change.NewImage[dynamo.PublicationRoundAttribute]
	if !ok || round.DataType() != events.DataTypeNumber {
		return 0, false
	}
	n, err := strconv.Atoi(round.Number())
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// Handle runs the announcements of every publication in the batch. A publication that
// is not finished (a deadline, throttling that outlasted the run, an error) is
// reported as a failure, so that Lambda delivers it again and the next run continues.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, r := range ev.Records {
		round, ok := PublicationRound(r)
		if !ok {
			continue
		}
		err := h.Announcer.Run(ctx, round)
		switch {
		case err == nil:
			h.Log.InfoContext(ctx, "announcements sent", "round", round)
		case errors.Is(err, pg.ErrPaused):
			// Not to be delivered again: an admin's "Resume sending" inserts a new trigger.
			h.Log.WarnContext(ctx, "announcements paused by the round's circuit breaker", "round", round)
		case errors.Is(err, pg.ErrDeadline):
			h.Log.InfoContext(ctx, "announcements to continue", "round", round, "why", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		case errors.Is(err, pg.ErrUnsettled):
			h.Log.InfoContext(ctx, "announcements to continue after a pause", "round", round, "why", err.Error())
			h.pause(ctx)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		default:
			h.Log.ErrorContext(ctx, "announcements failed", "round", round, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	return resp, nil
}
