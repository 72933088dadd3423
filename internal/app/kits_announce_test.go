package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

func TestEachGroupsAnnouncementLinksToTheKitItRunsItsEventFrom(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	admin := pg.Caller{Email: s.admin, Admin: true}
	midFac := testenv.Address("kit-announce-mid")
	if err := s.App.Services.Network.AppointFacilitator(ctx, admin, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 3, 8, 14, 0, 0, 0, pg.London)
	for i, g := range []string{"london", "midlands"} {
		day := start.AddDate(0, 0, i)
		if err := s.App.Services.Rounds.SetEvent(ctx, admin, pg.Event{Round: 3, GroupID: g, Start: day, End: day.Add(2 * time.Hour), Venue: g + " Town Hall", Capacity: 20}); err != nil {
			t.Fatal(err)
		}
	}
	londoner, midlander := s.addMember(t, "london", "Lon Don"), s.addMember(t, "midlands", "Mid Lands")
	s.createKit()
	s.addSection("Warm-up", pg.AudienceParticipant, "Bring three questions.\n")
	s.addSection("Running it", pg.AudienceFacilitator, "Keep the plan to yourselves.\n")
	s.takeKit("london", pg.CoreKit) // London has its version; the Midlands run from the core kit

	if err := s.App.Services.Rounds.Publish(ctx, admin, 3); err != nil {
		t.Fatal(err)
	}
	s.Config.MaxSendRate = 400 // the SES stand-in has no quota to read
	a := (&roundFixture{s: s.site}).announcer(t, nil, "")
	if err := a.Run(ctx, 3); err != nil {
		t.Fatal(err)
	}

	variant, core, participants := s.URL+"/kits/3/groups/london", s.URL+"/kits/3", s.URL+"/kits/3/for-participants"
	for _, tc := range []struct {
		who, subject, link string
	}{
		{londoner, "Round 3:", variant},
		{s.fac, "Round 3 is published", variant},
		{midlander, "Round 3:", participants}, // no version of their own: the core kit, for participants
		{midFac, "Round 3 is published", core},
	} {
		var m testenv.Email
		for _, e := range testenv.MailByRecipient(t)[strings.ToLower(tc.who)] {
			if strings.HasPrefix(e.Subject, tc.subject) {
				m = e
			}
		}
		if m.Subject == "" {
			t.Errorf("%s got no email %q", tc.who, tc.subject)
			continue
		}
		if tc.link == "" {
			if strings.Contains(m.Body.Text, "/kits/3") || strings.Contains(m.Body.HTML, "/kits/3") {
				t.Errorf("%s's %q links to a kit they cannot open:\n%s", tc.who, m.Subject, m.Body.Text)
			}
			continue
		}
		if !strings.Contains(m.Body.Text, ": "+tc.link+"\n") || !strings.Contains(m.Body.HTML, `href="`+tc.link+`"`) {
			t.Errorf("%s's %q does not link to %s:\n%s\n%s", tc.who, m.Subject, tc.link, m.Body.Text, m.Body.HTML)
		}
		if tc.link != variant && strings.Contains(m.Body.Text, "/kits/3/groups/") {
			t.Errorf("%s's email links to a group's version the group does not have:\n%s", tc.who, m.Body.Text)
		}
	}

	// London's member follows the link, signed in: its version, for participants.
	s.as(londoner)
	r := s.get("/kits/3/groups/london")
	if r.Status != http.StatusOK {
		t.Fatalf("a member opens the link of their announcement: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Bring three questions.", "Based on the core kit for round 3")

	// The Midlands' member follows theirs: the core kit, for participants only.
	s.as(midlander)
	r = s.get("/kits/3/for-participants")
	if r.Status != http.StatusOK {
		t.Fatalf("a member opens the core kit their announcement links to: %d\n%s", r.Status, r.Body)
	}
	mustContain(t, r.Body, "Bring three questions.", "The core kit for round 3, revision 3; licence")
	if strings.Contains(r.Body, "Keep the plan to yourselves") || strings.Contains(r.Body, "Running it") {
		t.Error("the participants' view of the core kit shows a section for facilitators only")
	}
	for _, path := range []string{"/kits/3", "/kits/3/sections/new", "/kits/3/agenda", "/kits/3/download"} {
		if r := s.get(path); r.Status != http.StatusForbidden {
			t.Errorf("a member opens %s: %d, want 403 (the facilitators' pages stay theirs)", path, r.Status)
		}
	}
	// Someone signed in who is a member of no group is refused.
	s.as(testenv.Address("kit-announce-nobody"))
	if r := s.get("/kits/3/for-participants"); r.Status != http.StatusForbidden {
		t.Errorf("someone in no group opens the core kit for participants: %d, want 403", r.Status)
	}
}

// A group's version of the kit with accessibility errors is not what its members are
// sent: the announcement links them to the core kit's participant view, and the
// group's facilitators are emailed once (however often the announcements run) what to
// fix, with a link to their version. A version without errors is announced as before;
// the admin's preview of the draft shows the same links.
func TestAGroupsVersionWithAccessibilityErrorsIsNotAnnouncedAndItsFacilitatorsAreTold(t *testing.T) {
	t.Parallel()
	s := newKitSite(t)
	ctx := context.Background()
	admin := pg.Caller{Email: s.admin, Admin: true}
	midFac := testenv.Address("kit-a11y-mid")
	if err := s.App.Services.Network.AppointFacilitator(ctx, admin, "midlands", midFac); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 3, 8, 14, 0, 0, 0, pg.London)
	for i, g := range []string{"london", "midlands"} {
		day := start.AddDate(0, 0, i)
		if err := s.App.Services.Rounds.SetEvent(ctx, admin, pg.Event{Round: 3, GroupID: g, Start: day, End: day.Add(2 * time.Hour), Venue: g + " Town Hall", Capacity: 20}); err != nil {
			t.Fatal(err)
		}
	}
	londoner, midlander := s.addMember(t, "london", "Lon Don"), s.addMember(t, "midlands", "Mid Lands")
	s.createKit()
	warm := s.addSection("Warm-up", pg.AudienceParticipant, "Bring three questions.\n")
	s.takeKit("london", pg.CoreKit)
	s.editVariant("london", warm, "Warm-up", "Bring three questions: [click here](https://example.org/questions).\n")
	s.as(midFac)
	s.takeKit("midlands", pg.CoreKit)

	participants, london, midlands := s.URL+"/kits/3/for-participants", s.URL+"/kits/3/groups/london", s.URL+"/kits/3/groups/midlands"
	s.as(s.admin)
	if r := s.get("/admin/rounds/3/preview/london"); !strings.Contains(r.Body, participants) {
		t.Errorf("the preview of London's announcement does not link to the core kit for participants:\n%s", r.Body)
	}
	if r := s.get("/admin/rounds/3/preview/midlands"); !strings.Contains(r.Body, midlands) || strings.Contains(r.Body, participants) {
		t.Errorf("the preview of the Midlands' announcement does not link to their version alone:\n%s", r.Body)
	}

	if err := s.App.Services.Rounds.Publish(ctx, admin, 3); err != nil {
		t.Fatal(err)
	}
	s.Config.MaxSendRate = 400 // the SES stand-in has no quota to read
	a := (&roundFixture{s: s.site}).announcer(t, nil, "")
	for range 2 { // run again, as a redelivered trigger does
		if err := a.Run(ctx, 3); err != nil {
			t.Fatal(err)
		}
	}

	mail := testenv.MailByRecipient(t)
	announcement := func(who string) testenv.Email {
		t.Helper()
		for _, e := range mail[strings.ToLower(who)] {
			if strings.HasPrefix(e.Subject, "Round 3:") && !strings.Contains(e.Subject, "accessibility") {
				return e
			}
		}
		t.Fatalf("%s got no announcement", who)
		return testenv.Email{}
	}
	if m := announcement(londoner); !strings.Contains(m.Body.Text, ": "+participants+"\n") || !strings.Contains(m.Body.HTML, `href="`+participants+`"`) || strings.Contains(m.Body.Text, london) {
		t.Errorf("London's member is not linked to the core kit for participants (London's version has an accessibility error):\n%s", m.Body.Text)
	}
	if m := announcement(midlander); !strings.Contains(m.Body.Text, ": "+midlands+"\n") || strings.Contains(m.Body.Text, participants) {
		t.Errorf("the Midlands' member is not linked to the Midlands' version:\n%s", m.Body.Text)
	}

	notice := "Round 3: fix the accessibility errors in London’s version of the kit"
	var notices []testenv.Email
	for _, e := range mail[strings.ToLower(s.fac)] {
		if e.Subject == notice {
			notices = append(notices, e)
		}
	}
	if len(notices) != 1 {
		t.Fatalf("London's facilitator got %d emails %q, want 1", len(notices), notice)
	}
	m := notices[0]
	for _, want := range []string{"Warm-up: ", "“click here” does not say where the link goes", london + "\n", "links to the core kit instead of to your version"} {
		if !strings.Contains(m.Body.Text, want) {
			t.Errorf("the notice lacks %q:\n%s", want, m.Body.Text)
		}
	}
	if !strings.Contains(m.Body.HTML, `href="`+london+`"`) {
		t.Errorf("the notice's HTML does not link to London's version:\n%s", m.Body.HTML)
	}
	for _, e := range mail[strings.ToLower(midFac)] {
		if strings.Contains(e.Subject, "accessibility") {
			t.Errorf("the Midlands' facilitator, whose version has no errors, got %q", e.Subject)
		}
	}
}
