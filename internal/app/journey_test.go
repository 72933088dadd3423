package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

func TestJoiningConfirmingAndLeaving(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("journey")

	home := s.get("/")
	if home.Status != http.StatusOK {
		t.Fatalf("home page: %d", home.Status)
	}
	mustContain(t, home.Body, "London", "Midlands", "East Midlands and West Midlands", "Yorkshire and the Humber", "South East and South West")

	// The details page suggests the group for the council's region.
	details := s.post("/join", joinForm(email))
	if details.Status != http.StatusOK {
		t.Fatalf("details: %d\n%s", details.Status, details.Body)
	}
	mustContain(t, details.Body, "Which peer groups do you want to join?", `value="midlands" aria-describedby="groups-midlands-hint" checked`)

	link := s.join(email)
	confirmMail := testenv.LastMail(t, email)
	if confirmMail.Body.HTML == "" || confirmMail.Body.Text == "" {
		t.Error("the confirmation email needs a text and an HTML part")
	}
	if !strings.Contains(confirmMail.Body.Text, "/manage?token=") {
		t.Error("the confirmation email has no link to manage the membership")
	}
	if confirmMail.Header("List-Unsubscribe") != "" {
		t.Error("the confirmation email is transactional: it should carry no List-Unsubscribe")
	}

	// Following the link shows what will be confirmed and changes nothing.
	page := s.get(link)
	if page.Status != http.StatusOK {
		t.Fatalf("confirm page: %d\n%s", page.Status, page.Body)
	}
	mustContain(t, page.Body, "Confirm that you want to join", "Ada Lovelace", "Midlands")
	person, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil || person.IsMember("midlands") {
		t.Fatalf("opening the link must not confirm: member=%v err=%v", person.IsMember("midlands"), err)
	}

	confirmed := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}})
	if confirmed.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", confirmed.Status, confirmed.Body)
	}
	mustContain(t, confirmed.Body, "You have joined", "Midlands peer group")

	person, err = s.App.Stores.People.Person(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if !person.IsMember("midlands") {
		t.Fatalf("after confirming, %s is not a member of midlands: %+v", email, person.Memberships)
	}
	if person.Profile.ConsentForm != "join" || person.Profile.ConsentAt.IsZero() {
		t.Errorf("no evidence of consent stored: %+v", person.Profile)
	}
	if person.Signup != nil {
		t.Error("the pending sign-up is still there after confirming")
	}

	welcome := testenv.LastMail(t, email)
	if welcome.Subject != "You have joined Peer Groups" {
		t.Fatalf("last email is %q, want the welcome email", welcome.Subject)
	}
	unsubscribe := welcome.Header("List-Unsubscribe")
	if !strings.HasPrefix(unsubscribe, "<"+s.URL+"/unsubscribe?token=") || !strings.HasSuffix(unsubscribe, ">") {
		t.Errorf("List-Unsubscribe = %q", unsubscribe)
	}
	if got := welcome.Header("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if n := len(testenv.Mail(t, email)); n != 2 {
		t.Errorf("%d emails sent, want 2 (confirmation and welcome)", n)
	}

	// Manage: the welcome email's link opens the page; leave the group.
	manage := s.get(testenv.Link(t, welcome.Body.Text, "/manage"))
	if manage.Status != http.StatusOK {
		t.Fatalf("manage: %d\n%s", manage.Status, manage.Body)
	}
	mustContain(t, manage.Body, "Manage your membership", email, "Midlands")
	manageToken := tokenOf(t, testenv.Link(t, welcome.Body.Text, "/manage"))

	changed := s.post("/manage/groups", url.Values{"token": {manageToken}, "groups": {"midlands", "london"}})
	mustContain(t, changed.Body, "Your groups have been saved")
	person = s.person(email)
	if !person.IsMember("london") || !person.IsMember("midlands") {
		t.Fatalf("after adding London: %+v", person.Memberships)
	}

	left := s.post("/manage/leave", url.Values{"token": {manageToken}, "group": {"london"}})
	mustContain(t, left.Body, "You have left the London peer group")
	person = s.person(email)
	if person.IsMember("london") || !person.IsMember("midlands") {
		t.Fatalf("after leaving London: %+v", person.Memberships)
	}

	all := s.post("/manage/leave-all", url.Values{"token": {manageToken}})
	mustContain(t, all.Body, "You have left all peer groups")
	person = s.person(email)
	if len(person.ConfirmedGroups()) != 0 {
		t.Fatalf("after leaving all: %+v", person.Memberships)
	}
}

func TestOneClickUnsubscribeIsIdempotentAndNeedsNoSession(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("unsub")
	welcome := s.joinAndConfirm(email)
	link := strings.Trim(welcome.Header("List-Unsubscribe"), "<>")

	for i := range 2 {
		// A mail client posts with no cookies: the first time from its server (no
		// Origin, no Sec-Fetch-Site), the second from a webmail page in a browser
		// (another site, as far as the browser is concerned).
		req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if i == 1 {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "https://webmail.example")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click unsubscribe #%d: %d", i+1, resp.StatusCode)
		}
		person := s.person(email)
		if m, _ := person.Membership("midlands"); m.Status != pg.StatusLeft {
			t.Fatalf("after one-click unsubscribe #%d, membership is %q", i+1, m.Status)
		}
	}

	// Opening the link does not unsubscribe: it asks.
	other := testenv.Address("unsub-get")
	welcome = s.joinAndConfirm(other)
	page := s.get(strings.Trim(welcome.Header("List-Unsubscribe"), "<>"))
	mustContain(t, page.Body, "Unsubscribe", "Midlands")
	person := s.person(other)
	if !person.IsMember("midlands") {
		t.Fatal("opening an unsubscribe link must not unsubscribe")
	}
}

func TestSigningUpAgainSendsAFreshLinkAndTheOldOneStopsWorking(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("again")
	first := s.join(email)
	second := s.join(email)
	if first == second {
		t.Fatal("the second sign-up sent the same link")
	}
	old := s.get(first)
	if old.Status != http.StatusGone {
		t.Fatalf("old link: %d, want 410", old.Status)
	}
	mustContain(t, old.Body, "replaced by a newer one")
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, first)}}); r.Status != http.StatusGone {
		t.Fatalf("confirming with the old link: %d, want 410", r.Status)
	}
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, second)}}); r.Status != http.StatusOK {
		t.Fatalf("confirming with the new link: %d", r.Status)
	}
	// Used: the link works once.
	again := s.post("/join/confirm", url.Values{"token": {tokenOf(t, second)}})
	if again.Status != http.StatusGone {
		t.Fatalf("second use of a link: %d, want 410", again.Status)
	}
	mustContain(t, again.Body, "already been used")
	if n := len(testenv.Mail(t, email)); n != 3 {
		t.Errorf("%d emails, want 3 (two confirmations, one welcome): a used link must not send another welcome", n)
	}
}

func TestTheFormNeverRevealsWhoIsAMember(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	member := testenv.Address("member")
	s.joinAndConfirm(member)
	stranger := testenv.Address("stranger")
	a := s.post("/join/groups", joinForm(member))
	b := s.post("/join/groups", joinForm(stranger))
	if a.Status != b.Status || a.Header.Get("Location") != b.Header.Get("Location") {
		t.Fatalf("member got %d %s, stranger got %d %s", a.Status, a.Header.Get("Location"), b.Status, b.Header.Get("Location"))
	}
	before := len(testenv.Mail(t, member)) // the welcome email has a manage link too
	ma := s.post("/manage/link", url.Values{"email": {member}})
	mb := s.post("/manage/link", url.Values{"email": {testenv.Address("nobody")}})
	if ma.Status != mb.Status || ma.Body != mb.Body {
		t.Errorf("the manage-link page differs for members and strangers")
	}
	if mail := testenv.Mail(t, member); len(mail) != before+1 || !strings.Contains(mail[len(mail)-1].Body.Text, "/manage?token=") {
		t.Errorf("the member did not get a manage link: %d emails before asking, %d after", before, len(mail))
	}
}

func TestAnExpiredLinkOffersANewOne(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("expired")
	link := s.join(email)
	s.Clock.Add(49 * time.Hour)

	page := s.get(link)
	if page.Status != http.StatusGone {
		t.Fatalf("expired link: %d, want 410", page.Status)
	}
	mustContain(t, page.Body, "This link has expired", "Send me a new link")
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusGone {
		t.Fatalf("confirming with an expired link: %d, want 410", r.Status)
	}

	resent := s.post("/join/resend", url.Values{"token": {tokenOf(t, link)}})
	if resent.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d\n%s", resent.Status, resent.Body)
	}
	fresh := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/join/confirm")
	if fresh == link {
		t.Fatal("resend sent the expired link again")
	}
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, fresh)}}); r.Status != http.StatusOK {
		t.Fatalf("confirming with the new link: %d\n%s", r.Status, r.Body)
	}
}

func TestUnconfirmedSignupsExpireEvenBeforeTTLDeletesThem(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("lazy-ttl")
	s.join(email)
	s.Clock.Add(49 * time.Hour)
	person, err := s.App.Stores.People.Person(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if person.Signup == nil || !person.Signup.Expired(s.Clock.Now()) {
		t.Fatalf("signup should still be stored (TTL is lazy) and read as expired: %+v", person.Signup)
	}
	manage := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/manage")
	page := s.get(manage)
	if strings.Contains(page.Body, "Waiting for you to confirm") {
		t.Error("an expired sign-up is shown as waiting for confirmation")
	}
}

func TestSignupsAreLimitedPerAddressAndPerClient(t *testing.T) {
	t.Parallel()
	s := newSite(t, map[string]string{"SIGNUP_LIMIT_PER_EMAIL": "2", "SIGNUP_LIMIT_PER_IP": "3"})
	email := testenv.Address("limit")
	s.join(email)
	s.join(email)
	r := s.post("/join/groups", joinForm(email))
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("third sign-up for one address in an hour: %d, want 429", r.Status)
	}
	mustContain(t, r.Body, "too many requests")
	if n := len(testenv.Mail(t, email)); n != 2 {
		t.Errorf("%d emails sent, want 2", n)
	}
	s.join(testenv.Address("limit-other"))
	if r := s.post("/join/groups", joinForm(testenv.Address("limit-fourth"))); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth sign-up from one client in an hour: %d, want 429", r.Status)
	}
	s.Clock.Add(time.Hour)
	s.join(email) // a new hour, a new count
}

func TestTheHoneypotStoresAndSendsNothing(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("bot")
	form := joinForm(email)
	form.Set("website", "http://spam.example")
	r := s.post("/join/groups", form)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/join/check-email" {
		t.Fatalf("a bot should see the usual answer: %d %s", r.Status, r.Header.Get("Location"))
	}
	if n := len(testenv.Mail(t, email)); n != 0 {
		t.Errorf("%d emails sent to a bot's address", n)
	}
	person := s.person(email)
	if person.Signup != nil {
		t.Error("a bot's sign-up was stored")
	}
}

func TestARegionWithNoGroupIsToldSoAndCanRegisterInterest(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	email := testenv.Address("north")
	form := joinForm(email)
	form.Set("council", "MAN") // Manchester: North West, no group yet
	form.Del("groups")
	page := s.post("/join", form)
	mustContain(t, page.Body, "There is no peer group for councils in North West yet", "Tell me when a peer group starts in North West")
	form.Set("interest", "yes")
	if r := s.post("/join/groups", form); r.Status != http.StatusSeeOther {
		t.Fatalf("registering interest: %d\n%s", r.Status, r.Body)
	}
	link := testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/join/confirm")
	if r := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d", r.Status)
	}
	person := s.person(email)
	if len(person.Interests) != 1 || person.Interests[0].Region != "North West" {
		t.Fatalf("interests: %+v", person.Interests)
	}
}
