package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// memStore keeps outbox items in memory with the same rules as the DynamoDB store.
type memStore struct {
	mu         sync.Mutex
	items      map[string]*memItem
	suppressed map[string]bool
	erased     map[string]bool // by hash
}

type memItem struct {
	state, run, reason string
	claimedAt          time.Time
	msg                *pg.Message
}

func newMemStore(ids ...string) *memStore {
	st := &memStore{items: map[string]*memItem{}}
	for _, id := range ids {
		st.items[id] = &memItem{state: StateWaiting, msg: &pg.Message{To: id + "@example.org", Subject: "Hello"}}
	}
	return st
}

func (st *memStore) ClaimOutbox(_ context.Context, id, run string, now time.Time, lease time.Duration) (Item, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	it, ok := st.items[id]
	switch {
	case !ok:
		return Item{}, ErrDone
	case it.state == StateSending && now.Sub(it.claimedAt) <= lease:
		return Item{}, &BusyError{Until: it.claimedAt.Add(lease)}
	case it.state != StateWaiting && it.state != StateSending:
		return Item{}, ErrDone
	}
	it.state, it.run, it.claimedAt = StateSending, run, now
	return Item{ID: id, Message: it.msg, ClaimedAt: now}, nil
}

func (st *memStore) SettleOutbox(_ context.Context, id, run, state, reason, _ string, _ time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	it := st.items[id]
	if it.state != StateSending || it.run != run {
		return ErrLost
	}
	it.state, it.reason = state, reason
	return nil
}

func (st *memStore) ReleaseOutbox(_ context.Context, id, run, reason string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	it := st.items[id]
	if it.state != StateSending || it.run != run {
		return ErrLost
	}
	it.state, it.run, it.reason = StateWaiting, "", reason
	return nil
}

func (st *memStore) AddressSuppressed(_ context.Context, email string) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.suppressed[email], nil
}

func (st *memStore) AddressErased(_ context.Context, hash string) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.erased[hash], nil
}

func (st *memStore) state(id string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.items[id].state
}

// mailer answers with err, counting what it accepted.
type mailer struct {
	mu   sync.Mutex
	err  error
	sent int
	tags []map[string]string
}

func (m *mailer) SendMessage(_ context.Context, msg pg.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", m.err
	}
	m.sent++
	m.tags = append(m.tags, msg.Tags)
	return fmt.Sprintf("ses-%d", m.sent), nil
}

func sender(st Store, m pg.Mailer) *Sender {
	return &Sender{Store: st, Mailer: m, Now: time.Now, Log: slog.New(slog.DiscardHandler), Lease: 2 * time.Second}
}

func TestAnItemIsSentOnceHoweverOftenItIsDone(t *testing.T) {
	st, m := newMemStore("a"), &mailer{}
	s := sender(st, m)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := s.Do(context.Background(), "a"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Do(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if m.sent != 1 || st.state("a") != StateSent {
		t.Fatalf("sent %d, state %s; want 1 and sent", m.sent, st.state("a"))
	}
}

func TestAFailureThatMayPassIsReportedAndTheItemWaits(t *testing.T) {
	st, m := newMemStore("a"), &mailer{err: errors.New("503 Service Unavailable")}
	s := sender(st, m)
	if err := s.Do(context.Background(), "a"); err == nil {
		t.Fatal("SES down was not reported: the record would not be delivered again")
	}
	if st.state("a") != StateWaiting {
		t.Fatalf("state %s after SES failed, want waiting", st.state("a"))
	}
	m.err = nil
	if err := s.Do(context.Background(), "a"); err != nil || m.sent != 1 || st.state("a") != StateSent {
		t.Fatalf("once SES was back: %v, sent %d, state %s", err, m.sent, st.state("a"))
	}
}

func TestARefusedEmailIsSettledAsFailedAndNotTriedAgain(t *testing.T) {
	st, m := newMemStore("a"), &mailer{err: fmt.Errorf("send email: %w: MessageRejected", pg.ErrRejected)}
	if err := sender(st, m).Do(context.Background(), "a"); err != nil {
		t.Fatalf("a refused email was reported for redelivery: %v", err)
	}
	if st.state("a") != StateFailed {
		t.Fatalf("state %s, want failed", st.state("a"))
	}
}

func TestAnItemLeftSendingByADeadRunIsTakenOverAfterItsLease(t *testing.T) {
	st, m := newMemStore("a"), &mailer{}
	if _, err := st.ClaimOutbox(context.Background(), "a", "dead", time.Now(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := sender(st, m).Do(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if m.sent != 1 || st.state("a") != StateSent {
		t.Fatalf("sent %d, state %s", m.sent, st.state("a"))
	}
	if time.Since(start) < 2*time.Second {
		t.Error("the item was taken over before the dead run's lease ran out")
	}
}

func TestAnItemHeldWhenTheFunctionHasNoTimeLeftIsReported(t *testing.T) {
	st, m := newMemStore("a"), &mailer{}
	st.ClaimOutbox(context.Background(), "a", "other", time.Now(), 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var busy *BusyError
	if err := sender(st, m).Do(ctx, "a"); !errors.As(err, &busy) {
		t.Fatalf("got %v, want the busy item reported for a later delivery", err)
	}
	if m.sent != 0 {
		t.Fatal("sent an item another run holds")
	}
}

// A transactional email to a suppressed address is not sent, and its item says so;
// one the person asked for just now (a sign-up's confirmation link) still goes. What
// is sent carries its item's ID as a tag, for SES's events to find it.
func TestASuppressedAddressGetsOnlyTheEmailItAskedFor(t *testing.T) {
	st, m := newMemStore("a", "b", "c"), &mailer{}
	st.suppressed = map[string]bool{"a@example.org": true, "b@example.org": true}
	st.items["b"].msg.Requested = true
	s := sender(st, m)
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Do(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if got := []string{st.state("a"), st.state("b"), st.state("c")}; got[0] != StateSuppressed || got[1] != StateSent || got[2] != StateSent {
		t.Fatalf("states %v, want suppressed, sent (asked for), sent", got)
	}
	if m.sent != 2 || m.tags[0][pg.TagOutbox] != "b" || m.tags[1][pg.TagOutbox] != "c" {
		t.Fatalf("sent %d with tags %v", m.sent, m.tags)
	}
}

// An erased address is on the suppression list by its keyed hash only: a transactional
// email to it is not sent; one it asked for just now (signing up anew) still goes.
func TestAnErasedAddressGetsOnlyTheEmailItAskedFor(t *testing.T) {
	st, m := newMemStore("a", "b", "c"), &mailer{}
	pseudonym := func(parts ...string) string { return fmt.Sprint(parts) }
	st.erased = map[string]bool{pg.ErasedHash(pseudonym, "a@example.org"): true, pg.ErasedHash(pseudonym, "b@example.org"): true}
	st.items["b"].msg.Requested = true
	s := sender(st, m)
	s.Pseudonym = pseudonym
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Do(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if got := []string{st.state("a"), st.state("b"), st.state("c")}; got[0] != StateSuppressed || got[1] != StateSent || got[2] != StateSent {
		t.Fatalf("states %v, want suppressed (erased), sent (asked for), sent", got)
	}
	if m.sent != 2 {
		t.Fatalf("sent %d, want 2", m.sent)
	}
}
