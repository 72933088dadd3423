package web

import (
	"fmt"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// shown writes a field's view as text: [-removed-], {+added+}, lines joined by "|",
// and (N) for N lines not shown.
func shown(fv fieldChangeView) string {
	var sb strings.Builder
	for _, p := range fv.Pieces {
		text := strings.Join(p.Lines, "|")
		switch {
		case p.Skipped > 0:
			if p.BreakBefore {
				sb.WriteString("|")
			}
			fmt.Fprintf(&sb, "(%d)", p.Skipped)
			if p.BreakAfter {
				sb.WriteString("|")
			}
		case p.Added:
			sb.WriteString("{+" + text + "+}")
		case p.Removed:
			sb.WriteString("[-" + text + "-]")
		default:
			sb.WriteString(text)
		}
	}
	return sb.String()
}

func TestALongUnchangedStretchIsCountedNotShownAroundAChange(t *testing.T) {
	lines := func(from, to int) string {
		var sb strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&sb, "l%d\n", i)
		}
		return sb.String()
	}
	for _, c := range []struct {
		name string
		a, b string
		want string
	}{
		{"a change in the middle of a long text", lines(1, 10) + "old\n" + lines(12, 30), lines(1, 10) + "new\n" + lines(12, 30),
			"(8)|l9|l10|[-old-]{+new+}|l12|l13|(18)"},
		{"a change near the start", "old\n" + lines(2, 4), "new\n" + lines(2, 4), "[-old-]{+new+}|l2|l3|l4|"},
		{"two changes close together keep the lines between", lines(1, 2) + "a\n" + lines(4, 8) + "b\n", lines(1, 2) + "A\n" + lines(4, 8) + "B\n",
			"l1|l2|[-a-]{+A+}|l4|l5|l6|l7|l8|[-b-]{+B+}|"},
		{"two changes far apart", "a\n" + lines(2, 20) + "b\n", "A\n" + lines(2, 20) + "B\n",
			"[-a-]{+A+}|l2|l3|(15)|l19|l20|[-b-]{+B+}|"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fv := fieldView(pg.FieldChange{Field: "body", From: c.a, To: c.b, Pieces: pg.WordDiff(c.a, c.b)})
			if got := shown(fv); got != c.want {
				t.Errorf("shown %q, want %q", got, c.want)
			}
		})
	}
}

func TestAChangedChoiceIsSaidInWords(t *testing.T) {
	fv := fieldView(pg.FieldChange{Field: "audience", From: pg.AudienceParticipant, To: pg.AudienceFacilitator, Pieces: []pg.TextPiece{{Op: pg.DiffRemoved, Text: pg.AudienceParticipant}, {Op: pg.DiffAdded, Text: pg.AudienceFacilitator}}})
	if got := shown(fv); fv.Label != "Who it is for" || got != "[-Participants (and facilitators)-]{+Facilitators only+}" {
		t.Errorf("%s: %q", fv.Label, got)
	}
}
