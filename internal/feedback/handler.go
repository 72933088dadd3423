package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Applier applies one event (pg.Feedback does).
type Applier interface {
	Apply(ctx context.Context, e pg.FeedbackEvent) (pg.FeedbackOutcome, error)
}

// Handler is the feedback function's handler: it decodes a payload of any of the
// three shapes and applies each event in it. Applying is idempotent, so an error (an
// event that does not read, the table unavailable) is returned whole: Lambda tries the
// invocation again and, when its retries run out, sends the event to the function's
// failure destination, where it is kept (and alarmed on) rather than lost.
type Handler struct {
	Feedback Applier
	Log      *slog.Logger
}

// Handle handles one invocation.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) error {
	events, decodeErr := Decode(payload)
	if decodeErr != nil {
		h.Log.ErrorContext(ctx, "feedback event does not read", "error", decodeErr)
	}
	var errs []error
	for _, e := range events {
		out, err := h.Feedback.Apply(ctx, e)
		if err != nil {
			h.Log.ErrorContext(ctx, "feedback event not applied", "type", e.Type, "message", e.MessageID, "error", err)
			errs = append(errs, err)
			continue
		}
		// Addresses are not logged: the counts are enough to follow what happened.
		h.Log.InfoContext(ctx, "feedback event applied", "type", e.Type, "message", e.MessageID,
			"recipients", len(e.Recipients), "recorded", out.Recorded, "suppressed", len(out.Suppressed), "left", len(out.Left))
	}
	if decodeErr != nil {
		errs = append(errs, decodeErr)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	return nil
}
