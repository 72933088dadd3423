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
	s.takeKit("london", pg.CoreKit) // London has its version; the Midlands run from the core kit

	if err := s.App.Services.Rounds.Publish(ctx, admin, 3); err != nil {
		t.Fatal(err)
	}
	s.Config.MaxSendRate = 400 // the SES stand-in has no quota to read
	a := (&roundFixture{s: s.site}).announcer(t, nil, "")
	if err := a.Run(ctx, 3); err != nil {
		t.Fatal(err)
	}

	variant, core := s.URL+"/kits/3/groups/london", s.URL+"/kits/3"
	for _, tc := range []struct {
		who, subject, link string
	}{
		{londoner, "Round 3:", variant},
		{s.fac, "Round 3 is published", variant},
		{midlander, "Round 3:", ""}, // no version of their own: members cannot open the core kit, so no link
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
		if tc.link == core && strings.Contains(m.Body.Text, "/kits/3/groups/") {
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
}
