package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/peergroups/peergroups/internal/announce"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// calendar serves a group's event for a round as an .ics file.
func (s roundPages) calendar(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groupID, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	round, events, err := s.svc.Round(r.Context(), n)
	if err == nil && (!ok || round.State == pg.RoundDraft) {
		err = pg.Errorf(pg.KindNotFound, "There is no such event.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range events {
		if e.GroupID != groupID {
			continue
		}
		g, err := s.svc.Group(r.Context(), groupID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data, err := announce.PublicCalendar(s.Announcer.BaseURL, s.Domain(), round, g, e, s.Server.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeCalendar(w, n, g.ID, data)
		return
	}
	s.fail(w, r, pg.Errorf(pg.KindNotFound, "There is no such event."))
}

func writeCalendar(w http.ResponseWriter, round int, group string, data []byte) {
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="round-`+strconv.Itoa(round)+`-`+group+`.ics"`)
	w.Write(data)
}

// memberCalendar serves a member's own link: their group's event with its full
// details (the address, the online meeting link, the facilitator's note).
func (s roundPages) memberCalendar(w http.ResponseWriter, r *http.Request) {
	round, g, e, err := s.svc.MemberEvent(r.Context(), token(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := announce.MemberCalendar(s.Announcer.BaseURL, s.Domain(), round, g, e, s.Server.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The file is the member's own: no shared cache keeps it.
	w.Header().Set("Cache-Control", "private, no-store")
	writeCalendar(w, round.Number, g.ID, data)
}
