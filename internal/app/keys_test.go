package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/links"
	"github.com/peergroups/peergroups/internal/testenv"
)

// otherKeyring is a keyring of a secret the service has never seen.
func otherKeyring(t *testing.T) *links.Keyring {
	t.Helper()
	secret := make([]byte, links.SecretLength)
	rand.Read(secret)
	ring, err := links.NewKeyring(secret, nil, time.Time{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func newSecretBase64() string {
	b := make([]byte, links.SecretLength)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// rotatingSite is a site whose configuration can be changed between requests, as a
// deploy changes the function's environment, over the same table.
type rotatingSite struct {
	*site
	handler atomic.Pointer[http.Handler]
}

// The outbox function follows the table with outboxEnv's keys: the secret after the
// rotation, with the one before it as the previous, so that it sends what was queued
// on either side of the rotation.
func newRotatingSite(t *testing.T, env, outboxEnv map[string]string) *rotatingSite {
	t.Helper()
	clients := mailing.NewClients(testenv.AWSConfig(t))
	table := testenv.TableWithStream(t, clients.DynamoDB)
	rs := &rotatingSite{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*rs.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rs.site = &site{t: t, URL: srv.URL, Clock: testenv.NewClock(), Table: table, client: newClient()}
	rs.deploy(env)
	testenv.Outbox(t, testenv.Config(t, table, srv.URL, outboxEnv), clients, rs.Clock.Now, testenv.OutboxOptions{})
	return rs
}

// deploy composes the service from a new environment, as a deploy would.
func (rs *rotatingSite) deploy(env map[string]string) {
	t := rs.t
	t.Helper()
	cfg := testenv.Config(t, rs.Table, rs.URL, env)
	a, err := website.New(cfg, app.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(rs.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	rs.App, rs.Config = a, cfg
	h := a.Handler()
	rs.handler.Store(&h)
}

func TestRotatingTheLinkKeySignsNobodyOutAndBreaksNoLinkDuringTheOverlap(t *testing.T) {
	t.Parallel()
	admin, member := testenv.Address("admin"), testenv.Address("member")
	oldKey, newKey := newSecretBase64(), newSecretBase64()
	s := newRotatingSite(t, map[string]string{"ADMIN_EMAILS": admin, "LINK_KEY": oldKey},
		map[string]string{"LINK_KEY": newKey, "LINK_KEY_PREVIOUS": oldKey, "LINK_KEY_PREVIOUS_UNTIL": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)})

	// Before the rotation: an admin signs in, a member joins (their welcome email has a
	// manage link), and someone has a form open.
	u, _ := url.Parse(s.URL)
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: s.sessionFor(t, admin)}})
	if r := s.get("/admin"); r.Status != http.StatusOK {
		t.Fatalf("the admin before the rotation: %d", r.Status)
	}
	manage := testenv.Link(t, s.joinAndConfirm(member).Body.Text, "/manage")
	oldKeyID := links.KeyID(tokenOf(t, manage))
	s.get("/manage/link")

	rotated := s.Clock.Now()
	until := rotated.Add(30 * 24 * time.Hour)
	s.deploy(map[string]string{"ADMIN_EMAILS": admin, "LINK_KEY": newKey, "LINK_KEY_PREVIOUS": oldKey, "LINK_KEY_PREVIOUS_UNTIL": until.UTC().Format(time.RFC3339)})

	if r := s.get("/admin"); r.Status != http.StatusOK {
		t.Fatalf("the admin after the rotation, with the previous key configured: %d to %q, want still signed in", r.Status, r.Header.Get("Location"))
	}
	if r := s.get(manage); r.Status != http.StatusOK || !strings.Contains(r.Body, "Manage your membership") {
		t.Fatalf("a manage link sent before the rotation: %d\n%s", r.Status, r.Body)
	}
	if r := s.post("/manage/link", url.Values{"email": {member}}); r.Status != http.StatusOK {
		t.Fatalf("a form shown before the rotation, posted after it: %d\n%s", r.Status, r.Body)
	}
	fresh := testenv.Link(t, testenv.LastMail(t, member).Body.Text, "/manage")
	if newKeyID := links.KeyID(tokenOf(t, fresh)); newKeyID == oldKeyID || newKeyID == "" || oldKeyID == "" {
		t.Fatalf("key IDs: %q before the rotation, %q after; new links must use the new key", oldKeyID, newKeyID)
	}
	freshSession := s.sessionFor(t, admin)

	// The overlap ends: the old key stops working even if it is still configured.
	s.Clock.Set(until)
	if r := s.get("/admin"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/sign-in" {
		t.Fatalf("the old session after the overlap: %d to %q, want a redirect to sign in", r.Status, r.Header.Get("Location"))
	}
	if r := s.get(manage); r.Status == http.StatusOK {
		t.Fatalf("a manage link sealed with the old key still opens after the overlap")
	}

	// The previous key removed: what it made stops working, what the new one made works.
	s.Clock.Set(rotated.Add(time.Hour))
	s.deploy(map[string]string{"ADMIN_EMAILS": admin, "LINK_KEY": newKey})
	if r := s.get(manage); r.Status == http.StatusOK {
		t.Fatalf("a manage link sealed with the removed key still opens")
	}
	if r := s.get(fresh); r.Status != http.StatusOK {
		t.Fatalf("a manage link sealed with the new key: %d", r.Status)
	}
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: freshSession}})
	if r := s.get("/admin"); r.Status != http.StatusOK {
		t.Fatalf("a session started after the rotation: %d", r.Status)
	}
}
