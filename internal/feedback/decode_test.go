package feedback_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/feedback"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTheThreeShapesOfAnSESEventAreRead(t *testing.T) {
	bounce, err := feedback.Decode(read(t, "feedback-bounce-eventbridge.json"))
	if err != nil || len(bounce) != 1 {
		t.Fatalf("EventBridge bounce: %v, %d events", err, len(bounce))
	}
	b := bounce[0]
	if b.Type != pg.FeedbackBounce || b.MessageID != "0102019a-ses-announcement-1" || b.BounceType != "Permanent" || !b.Suppresses() ||
		len(b.Recipients) != 1 || b.Recipients[0].Email != "gone@example.org" || b.Recipients[0].Status != "5.1.1" ||
		b.Tags["round"] != "12" || b.Tags["batch"] != "b0007" || b.State() != pg.DeliveryBounced {
		t.Errorf("bounce read as %+v", b)
	}
	if _, ok := b.Tags["ses:configuration-set"]; ok {
		t.Error("a tag SES adds with characters ours never use is kept")
	}
	complaint, err := feedback.Decode(read(t, "feedback-complaint-sns.json"))
	if err != nil || len(complaint) != 1 || complaint[0].Type != pg.FeedbackComplaint || complaint[0].Recipients[0].Email != "angry@example.org" || !complaint[0].Suppresses() {
		t.Errorf("SNS complaint read as %+v, %v", complaint, err)
	}
	delivery, err := feedback.Decode(read(t, "feedback-delivery.json"))
	if err != nil || len(delivery) != 1 || delivery[0].State() != pg.DeliveryDelivered || delivery[0].Suppresses() || delivery[0].Recipients[0].Email != "ada@example.org" {
		t.Errorf("bare delivery read as %+v, %v", delivery, err)
	}
}

func TestBadEventsAreRefusedWithAReasonAndUnknownOnesKept(t *testing.T) {
	for name, payload := range map[string]string{
		"not JSON":          "{",
		"no message ID":     `{"eventType":"Bounce","mail":{}}`,
		"not from SES":      `{"source":"aws.s3","detail":{"eventType":"Bounce","mail":{"messageId":"x"}}}`,
		"a slash in the ID": `{"eventType":"Send","mail":{"messageId":"../x"}}`,
	} {
		if _, err := feedback.Decode([]byte(payload)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	evs, err := feedback.Decode([]byte(`{"eventType":"Subscription","mail":{"messageId":"m-1"}}`))
	if err != nil || len(evs) != 1 || evs[0].State() != pg.DeliveryUnknown {
		t.Errorf("an event type SES added since: %+v, %v; want it read, changing nothing", evs, err)
	}
	evs, err = feedback.Decode([]byte(`{"eventType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"UnsubscribedRecipient","bouncedRecipients":[{"emailAddress":"not an address"},{"emailAddress":"ok@example.org","diagnosticCode":"smtp; 452\r\nX-Injected: yes"}]},"mail":{"messageId":"m-2"}}`))
	if err != nil || len(evs[0].Recipients) != 1 || strings.ContainsAny(evs[0].Recipients[0].Diagnostic, "\r\n") || evs[0].Suppresses() {
		t.Errorf("a transient bounce with a bad recipient and a two-line diagnostic: %+v, %v", evs, err)
	}
}

// Events arrive at least once and out of order: a message's state only moves up.
func TestADeliveryStateOnlyMovesUp(t *testing.T) {
	orders := [][]pg.DeliveryState{
		{pg.DeliverySent, pg.DeliveryDelivered, pg.DeliveryBounced},
		{pg.DeliveryBounced, pg.DeliverySent, pg.DeliveryDelivered},
		{pg.DeliveryDelivered, pg.DeliveryDelayed, pg.DeliveryBounced, pg.DeliverySent, pg.DeliveryBounced},
	}
	for _, order := range orders {
		s := pg.DeliveryUnknown
		for _, next := range order {
			s = s.Advance(next)
		}
		if s != pg.DeliveryBounced {
			t.Errorf("%v ends %s, want bounced", order, s)
		}
	}
	if s := pg.DeliveryComplained.Advance(pg.DeliveryDelivered); s != pg.DeliveryComplained {
		t.Errorf("a delivery after a complaint: %s", s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"feedback-bounce-eventbridge.json", "feedback-complaint-sns.json", "feedback-delivery.json"} {
		f.Add(read(f, name))
	}
	f.Add([]byte(`{"Records":[{"Sns":{"Message":"{}"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, _ := feedback.Decode(b)
		for _, e := range evs {
			if e.MessageID == "" || strings.ContainsAny(e.MessageID+e.Reason+e.BounceType, "\r\n") {
				t.Errorf("decoded %+v", e)
			}
			for _, r := range e.Recipients {
				if !pg.ValidEmail(r.Email) || strings.ContainsAny(r.Diagnostic, "\r\n") {
					t.Errorf("recipient %+v", r)
				}
			}
		}
	})
}
