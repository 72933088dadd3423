package dynamostream

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/peergroups/peergroups/internal/dynamo"
)

// Doer does one outbox item, once (outbox.Sender does).
type Doer interface {
	Do(ctx context.Context, id string) error
}

// OutboxMargin is the least time left in which an outbox item is started: a send
// (10 seconds at most) and its settle must fit before the function's timeout.
const OutboxMargin = 20 * time.Second

// OutboxHandler handles stream events for the outbox function: each INSERT of an
// outbox item is done once.
type OutboxHandler struct {
	Outbox Doer
	Log    *slog.Logger
}

// OutboxItemID returns the ID of the outbox item a stream record inserts, if it is one.
func OutboxItemID(r events.DynamoDBEventRecord) (string, bool) {
	if r.EventName != "INSERT" {
		return "", false
	}
	pk, ok1 := r.Change.Keys[dynamo.PartitionKeyAttribute]
	sk, ok2 := r.Change.Keys[dynamo.SortKeyAttribute]
	if !ok1 || !ok2 || pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
		return "", false
	}
	return dynamo.OutboxID(pk.String(), sk.String())
}

// Handle does every outbox item of the batch in order. After a failure that may pass
// (SES down or throttling), the rest of the batch is not tried: it is all reported as
// failed, so that Lambda delivers it again from the first failure. Items already done
// are skipped when they come again.
func (h *OutboxHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	failed := false
	for _, r := range ev.Records {
		id, ok := OutboxItemID(r)
		if !ok {
			continue
		}
		if deadline, ok := ctx.Deadline(); ok && !failed && time.Until(deadline) < OutboxMargin {
			// Not enough time left to send and settle: the rest goes to the next invocation.
			failed = true
		}
		if !failed {
			err := h.Outbox.Do(ctx, id)
			if err == nil {
				continue
			}
			h.Log.WarnContext(ctx, "outbox item to be delivered again", "id", id, "error", err)
			failed = true
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	return resp, nil
}
