package peergroups_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestChangedFieldsNamesOnlyWhatDiffers(t *testing.T) {
	before := pg.Group{ID: "london", Name: "London", Regions: []string{"London"}, Description: "Old", Contact: "a@example.org", Paused: true, Version: 3}
	for _, c := range []struct {
		name   string
		change func(*pg.Group)
		want   []string
	}{
		{"nothing", func(*pg.Group) {}, nil},
		{"the description", func(g *pg.Group) { g.Description = "New" }, []string{pg.FieldDescription}},
		{"name and regions", func(g *pg.Group) { g.Name, g.Regions = "London and the City", []string{"London", "South East"} }, []string{pg.FieldName, pg.FieldRegions}},
		// Whether it is paused is never an edit's to change: only SetPaused writes it.
		{"paused and version", func(g *pg.Group) { g.Paused, g.Version = false, 1 }, nil},
	} {
		after := before
		after.Regions = slices.Clone(before.Regions)
		c.change(&after)
		if got := pg.ChangedFields(before, after); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAFacilitatorCannotEditTheAdminsFields(t *testing.T) {
	s := &pg.Network{} // refused before the store is asked
	fac := pg.Caller{Email: "fac@example.org", Facilitates: []string{"london"}}
	g := pg.Group{ID: "london", Name: "Renamed"}
	for name, c := range map[string]struct {
		caller pg.Caller
		fields []string
	}{
		"a facilitator, the admin's form":   {fac, pg.AllGroupFields},
		"a facilitator, the name":           {fac, []string{pg.FieldName}},
		"a facilitator of another group":    {pg.Caller{Email: "x@example.org", Facilitates: []string{"south"}}, pg.PublicGroupFields},
		"an admin, a field that is no form": {pg.Caller{Email: "a@example.org", Admin: true}, []string{"paused"}},
	} {
		if err := s.UpdateGroup(context.Background(), c.caller, g, c.fields); !errors.Is(err, pg.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
}
