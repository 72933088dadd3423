package devstack

import (
	"fmt"
	"io"
	"net/http"

	"github.com/peergroups/peergroups/internal/feedback"
)

// InjectHandler is make dev's local endpoint for `make feedback`: POST
// /feedback?id=<SES message ID>&type=<event type> makes the event SES would publish
// about an email the simulator saw sent, and a POST with an event as its body (any of
// the three shapes: EventBridge, SNS, bare record) delivers it as it is.
func (s *MailboxSimulator) InjectHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /feedback", func(w http.ResponseWriter, r *http.Request) {
		id, typ := r.URL.Query().Get("id"), r.URL.Query().Get("type")
		if id == "" {
			body, err := io.ReadAll(io.LimitReader(r.Body, feedback.MaxEvent+1))
			if err != nil || len(body) == 0 {
				http.Error(w, "send ?id=<SES message ID>&type=<event type>, or an SES event as the body", http.StatusBadRequest)
				return
			}
			if err := s.Deliver(r.Context(), body); err != nil {
				http.Error(w, err.Error(), http.StatusUnprocessableEntity)
				return
			}
			fmt.Fprintln(w, "event applied")
			return
		}
		e, ok := s.Sent(id)
		if !ok {
			http.Error(w, fmt.Sprintf("no email with SES message ID %q was sent since make dev started (see the sent mail page)", id), http.StatusNotFound)
			return
		}
		if err := s.Inject(r.Context(), e, typ); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		fmt.Fprintf(w, "%s about %s applied\n", typ, id)
	})
	return mux
}
