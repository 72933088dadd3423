// The plan of a run: who gets what, counted before the first email and handed out in
// batches in a fixed order.

package announce

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// plan is who gets what: each group's facilitators the brief, and each group with
// an event its confirmed members the announcement.
type plan struct {
	round  pg.Round
	groups []pg.Group
	events map[string]pg.Event
	counts map[string]int
	total  int
	kits   kitLinks
}

func (a *Announcer) plan(ctx context.Context, r pg.Round, pub *pg.Publication) (*plan, error) {
	groups, err := a.Store.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	events, err := a.Store.Events(ctx, r.Number)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	kits, err := a.kitLinks(ctx, r.Number, pub)
	if err != nil {
		return nil, err
	}
	p := &plan{round: r, events: map[string]pg.Event{}, counts: map[string]int{}, kits: kits}
	for _, e := range events {
		p.events[e.GroupID] = e
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].ID < groups[j].ID })
	// Each group is counted at the same time as the others: the first email waits for
	// the count, and the groups' queries do not depend on one another.
	facilitators := make([]int, len(groups))
	members := make([]int, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	slots := make(chan struct{}, planQueries)
	for i, g := range groups {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			f, err := a.Store.RoleHolders(ctx, pg.RoleFacilitator, g.ID)
			if err != nil {
				errs[i] = fmt.Errorf("list facilitators of %s: %w", g.ID, err)
				return
			}
			m, err := a.Store.CountMembers(ctx, g.ID, pg.StatusConfirmed)
			if err != nil {
				errs[i] = fmt.Errorf("count members of %s: %w", g.ID, err)
				return
			}
			facilitators[i], members[i] = len(f), m
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, g := range groups {
		p.counts[g.ID] = members[i]
		p.total += facilitators[i]
		if _, ok := p.events[g.ID]; ok {
			p.total += members[i]
		}
		p.groups = append(p.groups, g)
	}
	return p, nil
}

// planQueries is how many groups the plan counts at once.
const planQueries = 8

// produce hands out the batches in a fixed order.
func (p *plan) produce(ctx context.Context, a *Announcer, size int, emit func(batch) error) error {
	for _, g := range p.groups {
		event, hasEvent := p.events[g.ID]
		facilitators, err := a.Store.RoleHolders(ctx, pg.RoleFacilitator, g.ID)
		if err != nil {
			return fmt.Errorf("list facilitators of %s: %w", g.ID, err)
		}
		brief, err := a.briefTemplate(p.round, g, event, hasEvent, p.counts[g.ID], p.kits.For(g.ID))
		if err != nil {
			return err
		}
		var to []recipient
		for _, f := range facilitators {
			to = append(to, recipient{email: f})
		}
		for start := 0; start < len(to); start += size {
			if err := emit(batch{kind: pg.LedgerBrief, group: g, template: brief, to: to[start:min(start+size, len(to))]}); err != nil {
				return err
			}
		}
		if !hasEvent {
			continue // members are not told of an event that does not exist
		}
		announcement, err := a.announceTemplate(p.round, g, event, p.kits.ForMembers(g.ID))
		if err != nil {
			return err
		}
		err = a.Store.MemberPages(ctx, g.ID, pg.StatusConfirmed, func(rows []pg.MemberRow) error {
			for start := 0; start < len(rows); start += size {
				chunk := rows[start:min(start+size, len(rows))]
				to := make([]recipient, len(chunk))
				for i, m := range chunk {
					to[i] = recipient{email: m.Email, name: m.Name}
				}
				if err := emit(batch{kind: pg.LedgerAnnouncement, group: g, event: event, template: announcement, to: to}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
