package peergroups

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// When a round is published, each group's version of its kit is checked for
// accessibility errors as its core kit is: a group's members are linked to its version
// only if it has none. Otherwise the announcement links them to the core kit's
// participant view, and the group's facilitators are emailed what to fix. The decision
// is made once, with the publication (the announce function reads it there: it links
// no S3), and the emails are written in the publication's transaction, so each is sent
// once however often the announcements are run.

// KitCheck is the accessibility check of a group's version of a round's kit at its head.
type KitCheck struct {
	Group    string
	Revision KitRevision
	Problems []KitProblem
}

// PublishedKits is what a round's publication records of its kits.
type PublishedKits struct {
	// Variants are the groups whose version passed the check: their members are
	// linked to it. Members of the other groups are linked to the core kit.
	Variants []string
	// Notices are the emails to the facilitators of the groups whose version did not.
	Notices []OutboxItem
}

// VariantChecks checks each group's version of a round's kit, in the order of the
// groups' IDs. A KindUnavailable error when a version's errors cannot be known just now
// (the render function, which finds them, cannot be reached).
func (v *KitVariants) VariantChecks(ctx context.Context, round int) ([]KitCheck, error) {
	r, err := v.Kits.round(ctx, round)
	if err != nil {
		return nil, err
	}
	ls, err := v.Store.KitLineages(ctx, round)
	if err != nil {
		return nil, err
	}
	var out []KitCheck
	for _, l := range ls { // a handful of groups: one GetItem and two S3 reads each
		kit, err := v.Kits.loadKit(ctx, r, l.Kit)
		if err != nil {
			return nil, fmt.Errorf("check %s's version of round %d's kit: %w", l.Kit, round, err)
		}
		if kit.HTML == nil && len(kit.Doc.Sections) > 0 {
			name, _ := v.parentNames(ctx, l.Kit)
			return nil, Errorf(KindUnavailable, "The accessibility of %s of the kit cannot be checked just now. Try again in a few minutes.", name)
		}
		out = append(out, KitCheck{Group: l.Kit, Revision: kit.Head, Problems: kit.Problems})
	}
	return out, nil
}

// RoleReader lists who holds a role in a group.
type RoleReader interface {
	RoleHolders(ctx context.Context, role, group string) ([]string, error)
}

// KitPublishing checks the groups' versions of a round's kit as the round is published
// (Rounds.Publish asks it), and writes the notices to the facilitators of those with
// accessibility errors.
type KitPublishing struct {
	Variants *KitVariants
	Roles    RoleReader
}

// maxKitNotices bounds the notices written in a publication's transaction (DynamoDB
// takes 100 items in one; the publication has three of its own).
const maxKitNotices = 90

// PublishedKits checks the groups' versions of round r's kit and returns what the
// publication records.
func (p *KitPublishing) PublishedKits(ctx context.Context, r Round) (PublishedKits, error) {
	checks, err := p.Variants.VariantChecks(ctx, r.Number)
	if err != nil {
		return PublishedKits{}, err
	}
	out := PublishedKits{Variants: []string{}}
	for _, ch := range checks {
		if len(ch.Problems) == 0 {
			out.Variants = append(out.Variants, ch.Group)
			continue
		}
		notices, err := p.notices(ctx, r, ch)
		if err != nil {
			return PublishedKits{}, err
		}
		out.Notices = append(out.Notices, notices...)
	}
	if len(out.Notices) > maxKitNotices {
		return PublishedKits{}, Errorf(KindInternal, "Too many facilitators to tell of their versions’ accessibility errors at once (%d).", len(out.Notices))
	}
	return out, nil
}

// notices are the emails to a group's facilitators saying which accessibility errors
// kept its version out of the round's announcement, with a link to it.
func (p *KitPublishing) notices(ctx context.Context, r Round, ch KitCheck) ([]OutboxItem, error) {
	g, err := p.Variants.Groups.Group(ctx, ch.Group)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", ch.Group, err)
	}
	facilitators, err := p.Roles.RoleHolders(ctx, RoleFacilitator, ch.Group)
	if err != nil {
		return nil, fmt.Errorf("facilitators of %s: %w", ch.Group, err)
	}
	env := p.Variants.Kits.Env
	var out []OutboxItem
	for _, to := range facilitators {
		data, err := env.emailData(to, "", []Group{g})
		if err != nil {
			return nil, err
		}
		data.Round, data.KitProblems = &r, ch.Problems
		data.Link = env.BaseURL + "/kits/" + strconv.Itoa(r.Number) + "/groups/" + url.PathEscape(g.ID)
		item, err := env.mail(to, fmt.Sprintf("Round %d: fix the accessibility errors in %s version of the kit", r.Number, Possessive(g.Name)), "kit-not-accessible", data)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}

// CoreForParticipants returns a round's core kit as participants see it: without its
// facilitator-only sections, its agenda without the facilitators' notes and materials,
// and nothing to edit it from. A group's members are linked to it by the round's
// announcement when their group has no version of the kit, or one with accessibility
// errors; so every confirmed member of a group reads it, as do facilitators and admins.
func (v *KitVariants) CoreForParticipants(ctx context.Context, c Caller, round int) (Kit, string, error) {
	if !c.SignedIn() {
		return Kit{}, "", ErrForbidden
	}
	if !canReadVariants(c) {
		p, err := v.People.Person(ctx, c.Email)
		if err != nil && KindOf(err) != KindNotFound {
			return Kit{}, "", err
		}
		if len(p.ConfirmedGroups()) == 0 {
			return Kit{}, "", ErrForbidden
		}
	}
	r, err := v.Kits.round(ctx, round)
	if err != nil {
		return Kit{}, "", err
	}
	kit, err := v.Kits.load(ctx, r)
	if KindOf(err) == KindNotFound && kit.Head.Hash == "" {
		return Kit{}, "", Errorf(KindNotFound, "Round %d has no kit yet.", round)
	}
	if err != nil {
		return Kit{}, "", err
	}
	return participantKit(kit), fmt.Sprintf("The core kit for round %d, revision %d; licence %s", round, kit.Head.Number, LicenceName(kit.Doc.Licence)), nil
}

// participantKit is a kit as participants see it.
func participantKit(kit Kit) Kit {
	kit.Doc = participantDoc(kit.Doc)
	html := map[string]string{}
	for _, s := range kit.Doc.Sections {
		if h, ok := kit.HTML[s.ID]; ok {
			html[s.ID] = h
		}
	}
	kit.HTML, kit.Revision = html, ""
	kit.Problems = nil
	agenda := make([]AgendaRow, len(kit.Doc.Agenda))
	for i, row := range kit.Doc.Agenda {
		row.FacilitatorNotes, row.Materials = "", ""
		agenda[i] = row
	}
	kit.Doc.Agenda = agenda
	kit.Doc.Files = nil // downloaded through the facilitators' pages only
	return kit
}
