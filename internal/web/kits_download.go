package web

import (
	"context"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitDownloads serve a round's kit as one zip file, made in S3 (a Lambda response is
// at most 6 MB, and a kit's files may be far more) and fetched from there.
type kitDownloads struct {
	*Server
	svc kitDownloadService
}

// kitDownloadService is what the download calls of the domain.
type kitDownloadService interface {
	Link(ctx context.Context, c pg.Caller, round int, kit string) (string, error)
}

// kitDownload answers with a short presigned link to the zip of the head revision of
// the round's core kit (or of the kit named by ?kit=).
func (s kitDownloads) kitDownload(w http.ResponseWriter, r *http.Request) {
	s.send(w, r, kitParam(r.URL.Query().Get("kit")))
}

// variantDownload answers with a link to the zip of a group's version of the kit: its
// members get it as its participants see it.
func (s kitDownloads) variantDownload(w http.ResponseWriter, r *http.Request) {
	s.send(w, r, r.PathValue("group"))
}

func (s kitDownloads) send(w http.ResponseWriter, r *http.Request, kit string) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.svc.Link(r.Context(), caller(r), n, kit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The link is never shown on a page or sent in an email: it dies in minutes.
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link, http.StatusSeeOther)
}
