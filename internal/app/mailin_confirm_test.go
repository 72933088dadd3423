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

// A request to join the Midlands by mail is answered with the join form's own
// confirmation link: nothing changes until it is followed (the sender is no member,
// and has nothing confirmed), and following it makes them a member, under the name
// their address carried. The same SES message delivered twice is one acknowledgement
// and one pending sign-up, whose link still works.
func TestAJoinRequestByMailCarriesTheJoinConfirmationLinkAndChangesNothingUntilItIsFollowed(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	sender := testenv.Address("sam")
	raw := message(t, "join-request.eml", sender)
	r := s.receive(raw, "ses-confirm-join-1")
	if again := s.receive(raw, "ses-confirm-join-1"); !again.Duplicate {
		t.Fatalf("the same SES message again: %+v", again)
	}
	acks := testenv.Mail(t, sender)
	if len(acks) != 1 {
		t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	person, err := s.App.Stores.People.Person(ctx, sender)
	if err != nil {
		t.Fatal(err)
	}
	if person.Known || person.IsMember("midlands") || person.Signup == nil || len(person.Signup.Groups) != 1 || person.Signup.Groups[0] != "midlands" {
		t.Fatalf("after the request by mail: %+v, want one pending sign-up for the Midlands and nothing confirmed", person)
	}
	text := acks[0].Body.Text
	mustContain(t, text, "join the Midlands peer group", "nothing changes until you do", "48 hours", r.Conversation.Ref)
	link := testenv.Link(t, text, "/join/confirm")
	if !strings.Contains(acks[0].Body.HTML, `href="`+link+`"`) {
		t.Errorf("the HTML part does not carry the link %s", link)
	}
	page := s.get(strings.TrimPrefix(link, s.URL))
	mustContain(t, page.Body, "Confirm that you want to join", "Sam Jones", "Midlands", sender)
	if person, _ := s.App.Stores.People.Person(ctx, sender); person.IsMember("midlands") {
		t.Fatal("opening the link made them a member: a mail scanner would")
	}
	done := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}})
	if done.Status != http.StatusOK || !strings.Contains(done.Body, "You have joined") {
		t.Fatalf("confirm: %d\n%s", done.Status, done.Body)
	}
	person, err = s.App.Stores.People.Person(ctx, sender)
	if err != nil || !person.IsMember("midlands") || person.Profile.Name != "Sam Jones" || person.Profile.ConsentForm != "mail" {
		t.Fatalf("after following the link: %+v, %v; want a member named Sam Jones who consented by mail", person, err)
	}
	// Now a member: asking again by mail is told so, with nothing to confirm.
	s.Clock.Add(25 * time.Hour)
	again := s.receive(message(t, "join-request.eml", sender), "ses-confirm-join-2")
	if !again.Acknowledged {
		t.Fatalf("a second request a day later: %+v", again)
	}
	last := testenv.LastMail(t, sender)
	if !strings.Contains(last.Body.Text, "You are a member of it already") || strings.Contains(last.Body.Text, "/join/confirm") {
		t.Errorf("a member asking to join again:\n%s", last.Body.Text)
	}
}

// A council is signed up by mail through the register form's confirmation link, for
// the council the message names; nothing is on the register until it is followed. A
// request that names no council, and a proposal (which needs more than an email
// carries reliably), are pointed to the form, saying what it needs.
func TestACouncilSignUpByMailIsConfirmedByLinkAndWhatMailCannotCarryGoesToTheForm(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	sender := testenv.Address("ada")
	r := s.receive(simple("Ada Lovelace <"+sender+">", "The Standard", "Hello, we would like to sign our council up to the Standard. We are Birmingham City Council."), "ses-register-1")
	if r.Conversation.Class != pg.MailRegister || !r.Acknowledged {
		t.Fatalf("%+v, want a registration acknowledged", r)
	}
	if _, _, err := s.App.Stores.Register.RegisterEntry(ctx, "BIR"); pg.KindOf(err) != pg.KindNotFound {
		t.Fatalf("the council's entry before the link is followed: %v, want none", err)
	}
	text := testenv.LastMail(t, sender).Body.Text
	mustContain(t, text, "sign Birmingham City Council up to the Standard")
	link := testenv.Link(t, text, "/councils/confirm")
	mustContain(t, s.get(strings.TrimPrefix(link, s.URL)).Body, "Birmingham City Council", "Ada Lovelace")
	if done := s.post("/councils/confirm", url.Values{"token": {tokenOf(t, link)}}); done.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", done.Status, done.Body)
	}
	entry, contacts, err := s.App.Stores.Register.RegisterEntry(ctx, "BIR")
	if err != nil || !entry.Pending() || len(contacts) != 1 || contacts[0].Email != sender {
		t.Fatalf("after following the link: %+v %+v %v, want Birmingham waiting for an admin, Ada its contact", entry, contacts, err)
	}

	cases := []struct {
		name, subject, body, form, needs string
	}{
		{"a council not named", "Signing up", "We would like to sign our council up to the Standard.", "/councils/sign-up", "which council"},
		{"a proposal", "New group", "Can we start a group in the North East? There is no group for us.", "/proposals/new", "the area the group would cover"},
		{"a join naming no group", "Joining", "Please add me, I would like to join.", "/join", "which group you would like to join"},
	}
	for i, tc := range cases {
		from := testenv.Address("form")
		r := s.receive(simple("Pat Doe <"+from+">", tc.subject, tc.body), "ses-form-"+string(rune('a'+i)))
		if !r.Acknowledged {
			t.Errorf("%s: not acknowledged: %+v", tc.name, r)
			continue
		}
		text := testenv.LastMail(t, from).Body.Text
		if !strings.Contains(text, s.URL+tc.form+"\n") || !strings.Contains(text, tc.needs) || strings.Contains(text, "confirm?token=") {
			t.Errorf("%s: want the form's link %s and what it needs (%q), no confirmation link:\n%s", tc.name, tc.form, tc.needs, text)
		}
	}
}

// An offer to help facilitate by mail, from a member, is confirmed by the join form's
// link, which records the offer when it is followed, not before.
func TestAnOfferToFacilitateByMailIsRecordedWhenItsLinkIsFollowed(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	member := testenv.Address("helper")
	s.joinAndConfirm(member)
	s.receive(simple(member, "Helping out", "I could help facilitate the Midlands sessions."), "ses-facilitate-1")
	if p, _ := s.App.Stores.People.Person(ctx, member); p.Profile.Facilitate {
		t.Fatal("the offer was recorded before its link was followed")
	}
	text := testenv.LastMail(t, member).Body.Text
	mustContain(t, text, "help facilitate the Midlands peer group")
	link := testenv.Link(t, text, "/join/confirm")
	if done := s.post("/join/confirm", url.Values{"token": {tokenOf(t, link)}}); done.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", done.Status, done.Body)
	}
	p, err := s.App.Stores.People.Person(ctx, member)
	if err != nil || !p.Profile.Facilitate || p.Profile.Name != "Ada Lovelace" || p.Profile.CouncilCode != "BIR" || !p.IsMember("midlands") {
		t.Fatalf("after following the link: %+v %v, want the offer recorded and the profile kept", p.Profile, err)
	}
}

// From can be forged: a request that claims to come from someone, whose reply goes to
// another address (its Return-Path), gets no link that acts for the From, not even the
// manage link at the foot of every email; the person it claims to be has nothing
// pending and is sent nothing.
func TestAForgedRequestNeverSendsALinkForTheAddressItClaims(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	victim, attacker := testenv.Address("victim"), testenv.Address("attacker")
	s.joinAndConfirm(victim)
	sent := len(testenv.Mail(t, victim))
	for i, body := range []string{"Please add me to the London group.", "I would like to leave, please remove me."} {
		raw := []byte("From: Victim <" + victim + ">\r\nReturn-Path: <" + attacker + ">\r\nTo: " + adminAddress + "\r\nSubject: Request\r\nMessage-ID: <forged-" + testenv.RandomID() + "@example.org>\r\n\r\n" + body + "\r\n")
		s.Clock.Add(2 * time.Hour)
		s.receive(raw, "ses-forged-"+string(rune('a'+i)))
		ack := testenv.LastMail(t, attacker)
		for _, path := range []string{"/join/confirm", "/manage?token="} {
			if strings.Contains(ack.Body.Text, path) {
				link := testenv.Link(t, ack.Body.Text, strings.TrimSuffix(path, "?token="))
				if page := s.get(strings.TrimPrefix(link, s.URL)); strings.Contains(page.Body, victim) {
					t.Errorf("%q: the reply to %s carries a link that acts for %s: %s", body, attacker, victim, link)
				}
			}
		}
		mustContain(t, ack.Body.Text, "the address you wrote from")
	}
	if p, _ := s.App.Stores.People.Person(ctx, victim); p.Signup != nil || p.IsMember("london") || !p.IsMember("midlands") {
		t.Errorf("the forged requests changed the victim's sign-up or memberships: %+v", p)
	}
	if n := len(testenv.Mail(t, victim)); n != sent {
		t.Errorf("the victim was sent %d emails by forged requests", n-sent)
	}
}

// With mail in configured, the home page shows each group's address beside it, as a
// mailto link; without, none.
func TestTheHomePageShowsEachGroupsAddressWhenMailInIsConfigured(t *testing.T) {
	t.Parallel()
	with := newSite(t, map[string]string{"GROUPS_MAIL_DOMAIN": groupsDomain}).get("/")
	mustContain(t, with.Body, "Email the group", `<a class="govuk-link" href="mailto:midlands@`+groupsDomain+`">midlands@`+groupsDomain+`</a>`)
	if without := newSite(t, nil).get("/"); strings.Contains(without.Body, "mailto:") || strings.Contains(without.Body, "Email the group") {
		t.Error("the home page shows group addresses with no mail domain configured")
	}
}
