package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

// from returns a copy of the site whose browser connects from another loopback address,
// so that the service sees another client IP.
func (s *site) from(ip string) *site {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	other := *s
	other.client = &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}},
	}
	return &other
}

func TestAFloodOfSignInRequestsFromOneClientDoesNotLockAnAdminOut(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("admin")
	attacker := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	refused := 0
	for range 20 {
		if r := attacker.post("/sign-in", url.Values{"email": {admin}}); r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 15 {
		t.Fatalf("%d of 20 sign-in requests for one address from one client were refused, want 15 (5 an hour allowed)", refused)
	}
	sent := len(testenv.Mail(t, admin))

	// The admin, elsewhere, first asks for a manage link a few times (another purpose),
	// then for a sign-in link.
	office := attacker.from("127.0.0.2")
	for i := range 5 {
		if r := office.post("/manage/link", url.Values{"email": {admin}}); r.Status != http.StatusOK {
			t.Fatalf("manage link %d from the admin's client: %d", i+1, r.Status)
		}
	}
	if r := office.post("/manage/link", url.Values{"email": {admin}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a sixth manage link from one client in an hour: %d, want 429", r.Status)
	}
	r := office.post("/sign-in", url.Values{"email": {admin}})
	if r.Status != http.StatusOK {
		t.Fatalf("the admin asking from another client after the flood: %d, want 200 and a link\n%s", r.Status, r.Body)
	}
	mail := testenv.Mail(t, admin)
	if len(mail) != sent+1 || mail[len(mail)-1].Subject != "Sign in to Peer Groups" {
		t.Fatalf("the admin has %d emails, want %d, the last a sign-in link", len(mail), sent+1)
	}
	link := testenv.Link(t, mail[len(mail)-1].Body.Text, "/sign-in/link")
	if r := office.post("/sign-in/link", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
		t.Fatalf("signing in with the link: %d to %q", r.Status, r.Header.Get("Location"))
	}
}
