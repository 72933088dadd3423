package web

import (
	"net/url"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestAnEditFormWithoutAVersionMatchesNoGroup(t *testing.T) {
	for _, v := range []string{"", "x", "-1", "1.5"} {
		g, _ := decodeFacilitatorEdit(url.Values{"version": {v}}, pg.Group{ID: "london"})
		if g.Version >= 0 {
			t.Errorf("version %q decodes as %d, which a group can have", v, g.Version)
		}
	}
	if g, _ := decodeFacilitatorEdit(url.Values{"version": {"7"}}, pg.Group{ID: "london"}); g.Version != 7 {
		t.Errorf("version 7 decodes as %d", g.Version)
	}
}
