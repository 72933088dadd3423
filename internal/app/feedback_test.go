package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// settleKiller lets SES take the batch of call killAt, then kills the run before the
// ledger records it: the rows stay "sending", as after a crash between the two.
type settleKiller struct {
	inner  pg.BulkMailer
	killAt int
	kill   context.CancelFunc
	mu     sync.Mutex
	calls  int
	taken  []devstack.SentEmail // what SES took in the killed call
}

func (m *settleKiller) SendBulk(ctx context.Context, t pg.BulkTemplate, to []pg.BulkDestination) ([]pg.BulkResult, error) {
	m.mu.Lock()
	m.calls++
	call := m.calls
	m.mu.Unlock()
	results, err := m.inner.SendBulk(ctx, t, to)
	if call != m.killAt || err != nil {
		return results, err
	}
	m.mu.Lock()
	for i, r := range results {
		if r.MessageID != "" {
			m.taken = append(m.taken, devstack.SentEmail{MessageID: r.MessageID, To: to[i].To, Tags: to[i].Tags, At: time.Now()})
		}
	}
	m.mu.Unlock()
	m.kill()
	return nil, context.Canceled // the settle never happens
}

func (m *settleKiller) MaxSendRate(ctx context.Context) (float64, error) {
	return m.inner.MaxSendRate(ctx)
}

// The ledger's last open window: a run killed after SES accepted a batch and before
// the ledger recorded it leaves the batch "sending", and once their lease has passed a
// resumed run would send it again. SES's Send events for that batch, delivered
// through the feedback handler, mark its rows sent: the resumed run sends the rest,
// and nobody gets the announcement twice.
func TestARunKilledBetweenSendAndSettleResumesWithNoDuplicatesOnceTheSendEventsArrive(t *testing.T) {
	t.Parallel()
	f := newRoundWith(t, 25, map[string]string{})
	ctx, kill := context.WithCancel(context.Background())
	killer := &settleKiller{killAt: 3, kill: kill}
	a := f.announcer(t, nil, "")
	killer.inner = a.Mailer
	a.Mailer = killer
	a.Workers = 1
	if err := a.Run(ctx, 1); err == nil {
		t.Fatal("the run did not notice it was killed")
	}
	if len(killer.taken) == 0 {
		t.Fatal("SES took nothing in the killed call")
	}
	sending := 0
	ledger, err := f.s.App.Stores.Announcements.Ledger(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ledger {
		if r.State == pg.LedgerSending {
			sending++
		}
	}
	if sending != len(killer.taken) {
		t.Fatalf("%d rows left sending, want the %d SES took", sending, len(killer.taken))
	}

	_, handler, err := feedbacking.New(f.s.Config, app.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(f.s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range killer.taken {
		record, err := devstack.Record(e, pg.FeedbackSend, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := handler.Handle(context.Background(), record); err != nil {
			t.Fatal(err)
		}
	}
	f.s.Clock.Add(pg.SendingLease + time.Minute) // the dead run's lease is over
	a.Mailer = killer.inner
	if err := a.Run(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.check(t) // everyone once: the killed batch was not sent again
	ledger, err = f.s.App.Stores.Announcements.Ledger(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ledger {
		for _, e := range killer.taken {
			if r.Email == e.To && (r.State != pg.LedgerSent || r.MessageID != e.MessageID) {
				t.Errorf("%s's row: %s with message %q, want sent with SES's %q", r.Email, r.State, r.MessageID, e.MessageID)
			}
		}
	}
}
