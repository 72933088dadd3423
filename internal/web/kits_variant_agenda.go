package web

import (
	"context"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// variantAgenda is the agenda form's kit for a group's version of a round's kit: the
// core kit's form, merged row by row in the same way.
func (s variantPages) variantAgenda(r *http.Request) (agendaKit, error) {
	n, err := roundNumber(r)
	if err != nil {
		return agendaKit{}, err
	}
	group := r.PathValue("group")
	g, err := s.Network.Group(r.Context(), group)
	if err != nil {
		return agendaKit{}, err
	}
	return agendaKit{
		load: func(ctx context.Context, c pg.Caller) (pg.Kit, error) {
			v, err := s.svc.Variant(ctx, c, n, group)
			return v.Kit, err
		},
		save: func(ctx context.Context, c pg.Caller, from string, rows []pg.AgendaRow, note string) (pg.Kit, error) {
			return s.svc.SaveVariantAgenda(ctx, c, n, group, from, rows, note)
		},
		path: variantPath(n, group), name: pg.Possessive(g.Name) + " version",
	}, nil
}

// agendaFormPage shows the agenda's form of a group's version.
func (s variantPages) agendaFormPage(w http.ResponseWriter, r *http.Request) {
	k, err := s.variantAgenda(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kitPages{Server: s.Server}.agendaForm(w, r, k)
}

// agendaSave saves the agenda of a group's version.
func (s variantPages) agendaSave(w http.ResponseWriter, r *http.Request) {
	k, err := s.variantAgenda(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kitPages{Server: s.Server}.saveAgenda(w, r, k)
}
