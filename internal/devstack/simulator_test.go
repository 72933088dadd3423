package devstack_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/feedback"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/ses"
	"github.com/peergroups/peergroups/internal/testenv"
)

// Mail sent through the SES stand-in to SES's mailbox simulator's addresses gets the
// events SES would publish for them, with the send's tags, in the shape the feedback
// handler reads; any other address is sent and delivered; ooto@ answers the sender
// with an automatic reply.
func TestTheMailboxSimulatorProducesTheEventsSESWould(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][]pg.FeedbackEvent{}
	var replies []string
	sim := &devstack.MailboxSimulator{Log: testenv.Logger(t)}
	sim.Deliver = func(_ context.Context, record []byte) error {
		events, err := feedback.Decode(record)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			for _, r := range e.Recipients {
				got[r.Email] = append(got[r.Email], e)
			}
		}
		return nil
	}
	sim.AutoReply = func(_ context.Context, to string, raw []byte) error {
		replies = append(replies, to+"\n"+string(raw))
		return nil
	}
	cfg := testenv.AWSConfig(t)
	cfg.APIOptions = append(cfg.APIOptions, sim.APIOption(true))
	mailer := ses.NewMailer(sesv2.NewFromConfig(cfg), "Peer Groups <peergroups@example.org>")
	addr := func(box string) string { return box + "@" + devstack.SimulatorDomain }
	for _, to := range []string{addr("bounce"), addr("complaint"), addr("ooto"), addr("suppressionlist"), "ada@example.org"} {
		msg := pg.Message{To: to, Subject: "Sign in", Text: "Hello", HTML: "<p>Hello</p>", Tags: map[string]string{pg.TagOutbox: "item1"}}
		if err := mailer.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	types := func(to string) string {
		var out []string
		for _, e := range got[to] {
			if e.Tags[pg.TagOutbox] != "item1" || e.MessageID == "" {
				t.Errorf("%s event for %s without the send's tags or message ID: %+v", e.Type, to, e)
			}
			s := e.Type
			if e.BounceType != "" {
				s += " " + e.BounceType + "/" + e.BounceSubType
			}
			out = append(out, s)
		}
		return strings.Join(out, ", ")
	}
	for to, want := range map[string]string{
		addr("bounce"):          "Send, Bounce Permanent/General",
		addr("complaint"):       "Send, Delivery, Complaint",
		addr("ooto"):            "Send, Delivery",
		addr("suppressionlist"): "Send, Bounce Permanent/OnAccountSuppressionList",
		"ada@example.org":       "Send, Delivery",
	} {
		if g := types(to); g != want {
			t.Errorf("events for %s: %s, want %s", to, g, want)
		}
	}
	if b := got[addr("bounce")]; len(b) == 2 && (b[1].Recipients[0].Diagnostic == "" || b[1].FeedbackID == "") {
		t.Errorf("the bounce has no diagnostic or feedback ID: %+v", b[1])
	}
	if len(replies) != 1 || !strings.HasPrefix(replies[0], "Peer Groups <peergroups@example.org>\n") || !strings.Contains(replies[0], "Auto-Submitted: auto-replied") {
		t.Errorf("ooto@'s automatic replies: %q", replies)
	}
	if e, ok := sim.Sent(got["ada@example.org"][0].MessageID); !ok || e.To != "ada@example.org" {
		t.Errorf("the simulator does not know the email to Ada by its message ID: %+v", e)
	}
}
