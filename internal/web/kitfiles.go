package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// kitFilePages upload files to a round's core kit and download them: the browser
// posts a file straight to S3, which sends it back here to check it and name it.
type kitFilePages struct {
	*Server
	svc kitFileService
}

// kitFileService is what these pages call of the domain.
type kitFileService interface {
	CoreKit(ctx context.Context, c pg.Caller, round int) (pg.Kit, error)
	StartUpload(ctx context.Context, c pg.Caller, round int, kit string) (pg.Kit, pg.UploadForm, error)
	FinishUpload(ctx context.Context, c pg.Caller, round int, kit, token, key string) (pg.UploadedFile, error)
	UploadedFile(c pg.Caller, round int, kit, token string) (pg.UploadedFile, error)
	AddFile(ctx context.Context, c pg.Caller, round int, from, token string, f pg.KitFile, note string) (pg.Kit, error)
	FileLink(ctx context.Context, c pg.Caller, round int, id string) (string, error)
}

// uploadView is the form that posts a file to S3.
type uploadView struct {
	base
	Kit     pg.Kit
	Form    pg.UploadForm
	MaxMB   int
	Allowed string
}

// kitFileView is the form that names an uploaded file and adds it to the kit.
type kitFileView struct {
	base
	Kit   pg.Kit
	File  pg.UploadedFile
	From  string
	Title string
	Alt   string
	Note  string
}

// uploadForm shows the upload form, or again with errors (status) when an upload was
// refused.
func (s kitFilePages) uploadForm(w http.ResponseWriter, r *http.Request) {
	s.showUpload(w, r, http.StatusOK, nil)
}

func (s kitFilePages) showUpload(w http.ResponseWriter, r *http.Request, status int, errs pg.FieldErrors) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, form, err := s.svc.StartUpload(r.Context(), caller(r), n, pg.CoreKit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The form is sent to S3 (or the local front): allow that one address.
	if u, err := url.Parse(form.URL); err == nil && u.Host != "" {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self' "+u.Scheme+"://"+u.Host+"; frame-ancestors 'none'")
	}
	s.render(w, r, status, "kit-upload", &uploadView{
		base: base{Title: fmt.Sprintf("Round %d core kit: upload a file", n), Errors: errs},
		Kit:  kit, Form: form, MaxMB: pg.MaxKitFileSize >> 20,
		Allowed: "PDF, PPTX, DOCX, ODP, ODT, PNG, JPEG, CSV or TXT",
	})
}

// uploaded is where S3 sends the browser once it has the file: the file is checked
// (once: the token works once), kept, and the form that names it is shown. A refused
// file is deleted and the upload form shown again with the reason.
func (s kitFilePages) uploaded(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	c := caller(r)
	f, err := s.svc.FinishUpload(r.Context(), c, n, pg.CoreKit, q.Get("upload"), q.Get("key"))
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		s.showUpload(w, r, http.StatusBadRequest, fe)
		return
	}
	if k := pg.KindOf(err); k == pg.KindInvalid || k == pg.KindConflict {
		status := http.StatusBadRequest
		if k == pg.KindConflict {
			status = http.StatusConflict
		}
		s.showUpload(w, r, status, pg.FieldErrors{{Field: "file", Message: pg.MessageOf(err)}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kit, err := s.svc.CoreKit(r.Context(), c, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showFile(w, r, http.StatusOK, &kitFileView{Kit: kit, File: f, From: kit.Revision})
}

func (s kitFilePages) showFile(w http.ResponseWriter, r *http.Request, status int, p *kitFileView) {
	p.Title = fmt.Sprintf("Round %d core kit: add %s", p.Kit.Round.Number, p.File.Name)
	s.render(w, r, status, "kit-file", p)
}

// kitFileFields are the fields of the form that adds a file, in order.
var kitFileFields = []string{"title", "alternative", "note"}

// fileAdd adds an uploaded file to the kit: a save with a change note.
func (s kitFilePages) fileAdd(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, c := values(r), caller(r)
	token, from := text(v, "file"), text(v, "from")
	f := pg.KitFile{Title: text(v, "title"), Alternative: text(v, "alternative")}
	note := text(v, "note")
	kit, err := s.svc.AddFile(r.Context(), c, n, from, token, f, note)
	if fe, ok := errors.AsType[pg.FieldErrors](err); ok {
		up, uerr := s.svc.UploadedFile(c, n, pg.CoreKit, token)
		current, kerr := s.svc.CoreKit(r.Context(), c, n)
		if err := errors.Join(uerr, kerr); err != nil {
			s.fail(w, r, err)
			return
		}
		s.showFile(w, r, http.StatusBadRequest, &kitFileView{base: base{Errors: inOrder(kitFileFields, nil, fe)}, Kit: current, File: up, From: from, Title: f.Title, Alt: f.Alternative, Note: note})
		return
	}
	if conflict, ok := errors.AsType[*pg.KitConflict](err); ok {
		s.problem(w, r, http.StatusConflict, "Someone else changed this file", fmt.Sprintf("While you were adding the file, someone else changed the same file in the kit (%d changes clash). Go back to the kit, then try again.", len(conflict.Clashes)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done := "saved"
	if kit.Head.Parent != from {
		done = "merged"
	}
	http.Redirect(w, r, kitPath(n)+"?done="+done+"#files", http.StatusSeeOther)
}

// download answers with a short presigned link to the file (a Lambda response could
// not carry 50 MB): the link is never shown on a page or sent in an email.
func (s kitFilePages) download(w http.ResponseWriter, r *http.Request) {
	n, err := roundNumber(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.svc.FileLink(r.Context(), caller(r), n, r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link, http.StatusSeeOther)
}
