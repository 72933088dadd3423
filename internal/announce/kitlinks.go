package announce

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// KitStore tells which kits a round has: its core kit's head, and which groups have
// their own version of it (DynamoDB only: the emails link to the kit's pages, never to
// its documents).
type KitStore interface {
	KitHead(ctx context.Context, round int, kit string) (pg.KitHead, error)
	KitLineages(ctx context.Context, round int) ([]pg.KitLineage, error)
}

// KitChecker checks the groups' versions of a round's kit for accessibility errors
// (peergroups.KitVariants does, reading S3): the web function's previews of a round
// not yet published. A published round's announcements use what its publication
// recorded of the check.
type KitChecker interface {
	VariantChecks(ctx context.Context, round int) ([]pg.KitCheck, error)
}

// kitLinks is the address of the kit each group runs a round's event from: the group's
// version when it has one, else the core kit, else none.
type kitLinks struct {
	base     string
	round    int
	core     bool
	variants map[string]bool
	// passed are the groups whose version passed the accessibility check: their
	// members are linked to it; other members to the core kit's participant view.
	passed map[string]bool
}

// For returns the address of a group's kit for its facilitators; "" when the round has
// no kit.
func (k kitLinks) For(group string) string {
	switch {
	case k.variants[group]:
		return k.variantLink(group)
	case k.core:
		return k.base + "/kits/" + strconv.Itoa(k.round)
	}
	return ""
}

func (k kitLinks) variantLink(group string) string {
	return k.base + "/kits/" + strconv.Itoa(k.round) + "/groups/" + url.PathEscape(group)
}

// ForMembers returns the address of a group's kit for its members: its version's page,
// which shows members the participant view, if it passed the accessibility check;
// else the core kit's participant view; "" when the round has no kit.
func (k kitLinks) ForMembers(group string) string {
	switch {
	case k.variants[group] && k.passed[group]:
		return k.variantLink(group)
	case k.core:
		return k.base + "/kits/" + strconv.Itoa(k.round) + "/for-participants"
	}
	return ""
}

// kitLinks reads which kits a round has: a GetItem and a Query. Which versions passed
// the accessibility check is what pub, the round's publication, recorded; for a round
// not published yet (a preview), the check is made now when Checks is set.
func (a *Announcer) kitLinks(ctx context.Context, round int, pub *pg.Publication) (kitLinks, error) {
	out := kitLinks{base: a.BaseURL, round: round, variants: map[string]bool{}, passed: map[string]bool{}}
	if a.Kits == nil {
		return out, nil
	}
	_, err := a.Kits.KitHead(ctx, round, pg.CoreKit)
	switch {
	case err == nil:
		out.core = true
	case pg.KindOf(err) != pg.KindNotFound:
		return out, fmt.Errorf("round %d's core kit: %w", round, err)
	}
	ls, err := a.Kits.KitLineages(ctx, round)
	if err != nil {
		return out, fmt.Errorf("round %d's kits: %w", round, err)
	}
	for _, l := range ls {
		out.variants[l.Kit] = true
	}
	switch {
	case pub != nil && pub.KitsChecked:
		for _, g := range pub.KitVariants {
			out.passed[g] = true
		}
	case pub == nil && a.Checks != nil:
		checks, err := a.Checks.VariantChecks(ctx, round)
		if err != nil {
			return out, fmt.Errorf("check round %d's kits: %w", round, err)
		}
		for _, c := range checks {
			out.passed[c.Group] = len(c.Problems) == 0
		}
	default:
		// Published before the versions were checked, or no checker: as then.
		out.passed = out.variants
	}
	return out, nil
}
