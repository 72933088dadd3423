package councils_test

import (
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/councils"
)

func TestTheCouncilDataLoads(t *testing.T) {
	list, err := councils.Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.All()); n < 350 || n > 450 {
		t.Fatalf("%d current councils, expected about 400", n)
	}
	for code, region := range map[string]string{"BIR": "West Midlands", "MAN": "North West", "LDS": "Yorkshire and The Humber"} {
		c, ok := list.Lookup(code)
		if !ok || c.Region != region {
			t.Errorf("%s: got %+v, want region %s", code, c, region)
		}
	}
	all := list.All()
	for i := 1; i < len(all); i++ {
		if all[i-1].Name > all[i].Name {
			t.Fatalf("not sorted by name: %q before %q", all[i-1].Name, all[i].Name)
		}
	}
}

func TestParseRefusesDataWithoutTheColumnsWeNeed(t *testing.T) {
	_, err := councils.Parse(strings.NewReader("code,name\nBIR,Birmingham\n"))
	if err == nil || !strings.Contains(err.Error(), "local-authority-code") {
		t.Fatalf("got %v", err)
	}
}
