package web

import (
	"fmt"
	"github.com/DataDog/datadog-agent/pkg/template/html"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// participantView is a round's core kit as participants see it.
type participantView struct {
	base
	Kit         pg.Kit
	Sections    []renderedSection
	Attribution string
}

// coreForParticipants shows a round's core kit to participants: the page a member's
// announcement links to when their group has no version of the kit of its own, or one
// with accessibility errors.
func (s variantPages) coreForParticipants(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, attribution, err := s.svc.CoreForParticipants(r.Context(), caller(r), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &participantView{base: base{Title: fmt.Sprintf("Round %d kit: %s", n, kit.Doc.Title)}, Kit: kit, Attribution: attribution}
	for _, sec := range kit.Doc.Sections {
		p.Sections = append(p.Sections, renderedSection{KitSection: sec, HTML: template.HTML(kit.HTML[sec.ID])}) // made safe by the render function
	}
	s.render(w, r, http.StatusOK, "kit-participant", p)
}
