package peergroups

import (
	"context"
	"errors"
	"fmt"
)

// A group launched from an approved proposal starts with the material every other
// group runs from: its own version of the latest round's core kit, made as "Use the
// core kit" makes one (the core kit's head revision itself, its lineage recorded),
// by the outbox function after the approval, with the invitations.

// LaunchActor names the service in the audit trail and in a kit's history for the
// version of the kit a new group is given when its proposal is approved.
const LaunchActor = "group-launch"

// RoundLister lists the rounds, newest first.
type RoundLister interface {
	Rounds(ctx context.Context) ([]Round, error)
}

// NewGroupKits starts the kit of a group launched from an approved proposal.
type NewGroupKits struct {
	Variants *KitVariants
	Rounds   RoundLister
}

// StartGroupKit gives a group its version of the core kit of the latest round that has
// one, and returns that round (0 when no round has a core kit: then nothing is made).
// It makes one version however often it runs (an approval's outbox item delivered
// again, the invitations asked for again): when the group has a version of that
// round's kit already, it is left as it is.
func (n *NewGroupKits) StartGroupKit(ctx context.Context, group string) (int, error) {
	rounds, err := n.Rounds.Rounds(ctx)
	if err != nil {
		return 0, fmt.Errorf("list rounds: %w", err)
	}
	for _, r := range rounds { // newest first; a round has one GetItem
		head, err := n.Variants.Kits.Store.KitHead(ctx, r.Number, CoreKit)
		if KindOf(err) == KindNotFound {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("round %d's core kit: %w", r.Number, err)
		}
		note := fmt.Sprintf("Started from the core kit, revision %d, when the group was launched", head.Revision.Number)
		err = n.Variants.copyKit(ctx, Caller{Email: LaunchActor}, r.Number, group, CoreKit, head.Revision, note)
		if err != nil && !errors.Is(err, ErrKitMoved) {
			return 0, fmt.Errorf("start %s's version of round %d's kit: %w", group, r.Number, err)
		}
		return r.Number, nil
	}
	return 0, nil
}
