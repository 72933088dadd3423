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

// kitLinks is the address of the kit each group runs a round's event from: the group's
// version when it has one, else the core kit, else none.
type kitLinks struct {
	base     string
	round    int
	core     bool
	variants map[string]bool
}

// For returns the address of a group's kit; "" when the round has no kit.
func (k kitLinks) For(group string) string {
	switch {
	case k.variants[group]:
		return k.base + "/kits/" + strconv.Itoa(k.round) + "/groups/" + url.PathEscape(group)
	case k.core:
		return k.base + "/kits/" + strconv.Itoa(k.round)
	}
	return ""
}

// ForMembers returns the address of a group's kit for its members: its variant's
// page, which shows members the participant view; "" when the group has none, since
// the core kit's pages are for facilitators and admins only.
func (k kitLinks) ForMembers(group string) string {
	if k.variants[group] {
		return k.For(group)
	}
	return ""
}

// kitLinks reads which kits a round has: a GetItem and a Query.
func (a *Announcer) kitLinks(ctx context.Context, round int) (kitLinks, error) {
	out := kitLinks{base: a.BaseURL, round: round, variants: map[string]bool{}}
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
	return out, nil
}
