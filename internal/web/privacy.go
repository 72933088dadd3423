package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// privacyPages serve the privacy notice, a person's "download my data" and "delete my
// data", and the admins' answers to data-protection requests.
type privacyPages struct {
	*Server
	svc privacyService
}

// privacyService is what these pages call of the domain.
type privacyService interface {
	RequestByManageLink(ctx context.Context, manageToken string, purpose links.Purpose) error
	Check(ctx context.Context, token string, purpose links.Purpose) (string, error)
	Export(ctx context.Context, token string) ([]byte, error)
	Erase(ctx context.Context, token string) error
	AdminExport(ctx context.Context, c pg.Caller, email string) ([]byte, error)
	AdminErase(ctx context.Context, c pg.Caller, email string) error
}

// privacyNoticeView is the privacy notice, with the retention periods it states.
type privacyNoticeView struct {
	base
	Retention pg.Retention
}

// privacyLinkView asks a person to use their export or erase link (a link opened from
// an email changes nothing until its button is pressed).
type privacyLinkView struct {
	base
	Erase bool
	Token string
	Email string
}

// adminPrivacyView is the admins' page for data-protection requests.
type adminPrivacyView struct {
	base
	Email string
}

func (s privacyPages) notice(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "privacy", &privacyNoticeView{base: base{Title: "Privacy notice"}, Retention: s.Retention})
}

func (s privacyPages) request(purpose links.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.svc.RequestByManageLink(r.Context(), token(r), purpose); err != nil {
			s.fail(w, r, err)
			return
		}
		msg := "We have emailed you a link to download your data. It works once and expires in " + pg.DurationText(pg.ExportLinkTTL) + "."
		if purpose == links.Erase {
			msg = "We have emailed you a link to confirm that you want your data deleted. Nothing is deleted until you use it. It expires in " + pg.DurationText(pg.EraseLinkTTL) + "."
		}
		s.render(w, r, http.StatusOK, "sent", &doneView{base: base{Title: "Check your email"}, Message: msg})
	}
}

func (s privacyPages) linkPage(purpose links.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := token(r)
		email, err := s.svc.Check(r.Context(), tok, purpose)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		title := "Download your data"
		if purpose == links.Erase {
			title = "Delete your data"
		}
		s.render(w, r, http.StatusOK, "privacy-link", &privacyLinkView{base: base{Title: title}, Erase: purpose == links.Erase, Token: tok, Email: email})
	}
}

func (s privacyPages) export(w http.ResponseWriter, r *http.Request) {
	body, err := s.svc.Export(r.Context(), token(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sendJSON(w, body)
}

// sendJSON answers with a person's data as a file to save.
func sendJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="peer-groups-my-data.json"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

func (s privacyPages) erase(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Erase(r.Context(), token(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "done", &doneView{base: base{Title: "Your data has been deleted"},
		Message: "We have deleted your details, your memberships, your answers to events and the messages you sent us. We will not email you again unless you join again.",
		Link:    "/privacy", LinkText: "Read the privacy notice"})
}

func (s privacyPages) adminPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin-privacy", &adminPrivacyView{base: base{Title: "Data-protection requests"}})
}

func (s privacyPages) adminExport(w http.ResponseWriter, r *http.Request) {
	email := values(r).Get("email")
	body, err := s.svc.AdminExport(r.Context(), caller(r), email)
	if pg.KindOf(err) == pg.KindInvalid {
		s.render(w, r, http.StatusBadRequest, "admin-privacy", &adminPrivacyView{base: base{Title: "Error: Data-protection requests", Errors: pg.FieldErrors{{Field: "email", Message: pg.MessageOf(err)}}}, Email: email})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sendJSON(w, body)
}

func (s privacyPages) adminErase(w http.ResponseWriter, r *http.Request) {
	email := values(r).Get("email")
	err := s.svc.AdminErase(r.Context(), caller(r), email)
	if pg.KindOf(err) == pg.KindInvalid {
		s.render(w, r, http.StatusBadRequest, "admin-privacy", &adminPrivacyView{base: base{Title: "Error: Data-protection requests", Errors: pg.FieldErrors{{Field: "email", Message: pg.MessageOf(err)}}}, Email: email})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-privacy", &adminPrivacyView{base: base{Title: "Data-protection requests", Banner: "Everything held about that address has been deleted"}})
}
