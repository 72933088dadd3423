package main

import (
	"context"
	"fmt"
	"time"

	"github.com/peergroups/peergroups/internal/app/website"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// seedRound is the round `make dev` makes, so that a newcomer sees the kits at once.
const seedRound = 1

// seedKits makes, once, a draft round with events for London and the Midlands, its
// core kit (two sections, one for facilitators only, and an agenda), London's version
// taken from it with a change of its own, and the Midlands' version taken from
// London's. It does nothing when the round exists (the local data is kept).
func seedKits(ctx context.Context, a *website.App, admin string) error {
	svc := a.Services
	c := pg.Caller{Email: admin, Admin: true}
	if _, _, err := svc.Rounds.Round(ctx, seedRound); err == nil {
		return nil
	} else if pg.KindOf(err) != pg.KindNotFound {
		return err
	}
	start := time.Now().In(pg.London).AddDate(0, 1, 0)
	start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, pg.London)
	r := pg.Round{Number: seedRound, Title: "User research with residents", Summary: "How councils plan, run and share research with the people who use their services.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 27), State: pg.RoundDraft}
	if err := svc.Rounds.CreateRound(ctx, c, r); err != nil {
		return fmt.Errorf("seed round: %w", err)
	}
	for i, g := range []string{"london", "midlands"} {
		day := start.AddDate(0, 0, 7+7*i)
		e := pg.Event{Round: seedRound, GroupID: g, Start: day.Add(10 * time.Hour), End: day.Add(13 * time.Hour), Venue: "Council offices, room 2", Address: "1 High Street", Capacity: 30}
		if err := svc.Rounds.SetEvent(ctx, c, e); err != nil {
			return fmt.Errorf("seed event: %w", err)
		}
	}
	kit, err := svc.Kits.CreateCoreKit(ctx, c, seedRound, pg.KitDoc{Title: "Research with residents", Summary: "A half-day session: plan a round of research, try an interview, share what you found.", Licence: pg.LicenceOGL})
	if err != nil {
		return fmt.Errorf("seed core kit: %w", err)
	}
	sections := []pg.KitSection{
		{ID: "welcome", Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: "Before you come", Body: "### What to bring\n\nOne piece of research your team did this year, and a question you could not answer.\n\nRead the [GOV.UK Service Manual on user research](https://www.gov.uk/service-manual/user-research) if you have time.\n"},
		{ID: "running", Kind: pg.SectionNotes, Audience: pg.AudienceFacilitator, Title: "Running the interview exercise", Body: "### Pairs\n\nPut people from different councils together.\n\n### Timing\n\nGive a two-minute warning before swapping roles.\n"},
	}
	for _, s := range sections {
		if kit, err = svc.Kits.SaveSection(ctx, c, seedRound, kit.Revision, s, "Added "+s.Title); err != nil {
			return fmt.Errorf("seed section: %w", err)
		}
	}
	agenda := []pg.AgendaRow{
		{ID: "a-welcome", Minutes: 15, Title: "Welcome and introductions", Kind: pg.AgendaTalk, Lead: "Facilitator"},
		{ID: "a-plan", Minutes: 45, Title: "Planning a round of research", Kind: pg.AgendaDiscussion, ParticipantNotes: "Bring your research plan."},
		{ID: "a-break", Minutes: 15, Title: "Break", Kind: pg.AgendaBreak},
		{ID: "a-interview", Minutes: 60, Title: "Interview practice in pairs", Kind: pg.AgendaExercise, FacilitatorNotes: "Pairs from different councils.", Materials: "Printed discussion guide"},
		{ID: "a-close", Minutes: 20, Title: "What we will try next", Kind: pg.AgendaDiscussion},
	}
	if _, err = svc.Kits.SaveAgenda(ctx, c, seedRound, kit.Revision, agenda, "Planned the session"); err != nil {
		return fmt.Errorf("seed agenda: %w", err)
	}
	if err := svc.KitVariants.CreateVariant(ctx, c, seedRound, "london", pg.CoreKit); err != nil {
		return fmt.Errorf("seed London's version: %w", err)
	}
	london, err := svc.KitVariants.Variant(ctx, c, seedRound, "london")
	if err != nil {
		return err
	}
	welcome := sections[0]
	welcome.Body += "\nWe meet at the Guildhall: bring photo ID for the front desk.\n"
	if _, err := svc.KitVariants.SaveVariantSection(ctx, c, seedRound, "london", london.Kit.Revision, welcome, "Where we meet in London"); err != nil {
		return fmt.Errorf("seed London's change: %w", err)
	}
	if err := svc.KitVariants.CreateVariant(ctx, c, seedRound, "midlands", "london"); err != nil {
		return fmt.Errorf("seed the Midlands' version: %w", err)
	}
	return nil
}
