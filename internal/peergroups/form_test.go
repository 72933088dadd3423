package peergroups_test

import (
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

var testCouncils = pg.NewCouncils([]pg.Council{
	{Code: "BIR", Name: "Birmingham City Council", Nation: "England", Region: "West Midlands"},
	{Code: "MAN", Name: "Manchester City Council", Nation: "England", Region: "North West"},
	{Code: "LBH", Name: "London Borough of Hackney", Nation: "England", Region: "London"},
})

var testGroups = []pg.Group{
	{ID: "london", Name: "London", Regions: []string{"London"}},
	{ID: "midlands", Name: "Midlands", Regions: []string{"East Midlands", "West Midlands"}},
	{ID: "closed", Name: "Closed", Regions: []string{"Nowhere"}, Paused: true},
}

func TestValidEmail(t *testing.T) {
	for addr, want := range map[string]bool{
		"ada@example.org":                        true,
		"ada.lovelace+peer@council.gov.uk":       true,
		"o'brien@example.ie":                     true,
		"ada@localhost":                          false,
		"ada@@example.org":                       false,
		"@example.org":                           false,
		".ada@example.org":                       false,
		"ada..l@example.org":                     false,
		"ada@-example.org":                       false,
		"ada@example.123":                        false,
		"ada lovelace@example.org":               false,
		"ada@exa_mple.org":                       false,
		"ada@example.org\n":                      false,
		"\"ada\"@example.org":                    false,
		"ädä@example.org":                        false,
		strings.Repeat("a", 65) + "@example.org": false,
	} {
		if got := pg.ValidEmail(addr); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestGroupsForRegion(t *testing.T) {
	groups := append(testGroups, pg.Group{ID: "south", Name: "South", Regions: []string{"South East", "South West"}})
	for region, want := range map[string]string{
		"West Midlands": "midlands",
		"East Midlands": "midlands",
		"London":        "london",
		"South West":    "south",
		"South East":    "south",
		"North West":    "",
		"Nowhere":       "", // the only group there is paused
	} {
		got := pg.GroupsForRegion(groups, region)
		switch {
		case want == "" && len(got) != 0:
			t.Errorf("%s: got %v, want no group", region, got)
		case want != "" && (len(got) != 1 || got[0].ID != want):
			t.Errorf("%s: got %v, want %s", region, got, want)
		}
	}
}
