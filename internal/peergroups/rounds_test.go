package peergroups_test

import (
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestTheWaitingListIsFirstComeFirstServed(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 1, 9, m, 0, 0, time.UTC) }
	cases := []struct {
		name string
		list []pg.Attendance
		want string
	}{
		{"nobody waiting", []pg.Attendance{{Email: "a", Status: pg.Going, Since: at(1)}}, ""},
		{"the one waiting", []pg.Attendance{{Email: "a", Status: pg.Going, Since: at(1)}, {Email: "b", Status: pg.Waiting, Since: at(2)}}, "b"},
		{"the longest waiting", []pg.Attendance{{Email: "c", Status: pg.Waiting, Since: at(5)}, {Email: "b", Status: pg.Waiting, Since: at(3)}, {Email: "d", Status: pg.NotGoing, Since: at(1)}}, "b"},
	}
	for _, tc := range cases {
		next, ok := pg.NextOnWaitingList(tc.list)
		if (tc.want == "") == ok || (ok && next.Email != tc.want) {
			t.Errorf("%s: got %q %v, want %q", tc.name, next.Email, ok, tc.want)
		}
	}
}
