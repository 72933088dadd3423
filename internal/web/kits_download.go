package web

import (
	"context"
	"mime"
	"net/http"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitDownloads serve a round's kit as one zip file.
type kitDownloads struct {
	*Server
	svc kitDownloadService
}

// kitDownloadService is what the download calls of the domain.
type kitDownloadService interface {
	Download(ctx context.Context, c pg.Caller, round int, kit string) (pg.KitDownload, error)
}

// kitDownload sends the head revision of the round's core kit (or of the kit named by
// ?kit=) as a zip, written straight to the response as it is made.
func (s kitDownloads) kitDownload(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.svc.Download(r.Context(), caller(r), n, kitParam(r.URL.Query().Get("kit")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName()}))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := pg.WriteKitArchive(w, d); err != nil {
		// The zip has begun: the browser is left with a broken download, which it says.
		s.Log.ErrorContext(r.Context(), "write kit zip", "path", r.URL.Path, "error", err)
	}
}
