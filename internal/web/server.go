// Package web is the service's HTTP interface: server-rendered GOV.UK Frontend pages
// over net/http, run in Lambda behind API Gateway and directly by the local server.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/announce"
	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 64 << 10

//go:embed static
var static embed.FS

// Server holds what the handlers need.
type Server struct {
	// Each capability's service.
	Memberships *pg.Memberships
	Access      *pg.Access
	Network     *pg.Network
	Register    *pg.Register
	Proposals   *pg.Proposals
	Invitations *pg.Invitations
	Rounds      *pg.Rounds
	RSVPs       *pg.RSVPs
	Kits        *pg.Kits
	KitVariants *pg.KitVariants
	KitFiles    *pg.KitFiles
	MailInbox   *pg.MailInbox
	Now         func() time.Time // the services' clock

	// KitSuggestions is the groups' suggestions to the core kits (nil: none shown).
	KitSuggestions *pg.KitSuggestions
	// KitDownloads make the kits' zips.
	KitDownloads *pg.KitDownloads

	// Privacy exports and erases a person's data; Retention is what the privacy
	// notice says is kept, and for how long.
	Privacy   *pg.Privacy
	Retention pg.Retention

	Announcer *announce.Announcer
	Councils  *pg.Councils
	Sessions  *Sessions
	Log       *slog.Logger
	Exports   Exports

	// GroupsMailDomain is the domain of the groups' addresses (<group ID>@domain),
	// shown with each group when mail in is configured; "" shows none.
	GroupsMailDomain string
}

// The pages of some capabilities reach a second service: the network's consoles list
// the rounds, the proposals' pages accept invitations, the rounds' pages take RSVPs.
type (
	networkConsole struct {
		*pg.Network
		roundLister
	}
	roundLister interface {
		Rounds(context.Context) ([]pg.Round, error)
	}
	proposalsAndInvitations struct {
		*pg.Proposals
		*pg.Invitations
	}
	roundsAndRSVPs struct {
		*theRounds
		*pg.RSVPs
	}
	theRounds = pg.Rounds // a field named Rounds would hide the method
)

// Exports keeps downloads too large for a response (a Lambda response is at most
// 6 MB) and returns a short link that fetches each.
type Exports interface {
	Put(ctx context.Context, prefix, contentType, filename string, body []byte) (string, error)
}

// Routes returns the patterns the server serves, each with who may use it and its
// handler. The router is built from this list, and so is the authorisation test.
func (s *Server) Routes() []Route {
	var (
		join      = joinPages{s, s.Memberships}
		manage    = managePages{s, s.Memberships}
		access    = accessPages{s, s.Access}
		network   = networkPages{s, networkConsole{s.Network, s.Rounds}}
		proposals = proposalPages{s, proposalsAndInvitations{s.Proposals, s.Invitations}}
		register  = registerPages{s, s.Register}
		rounds    = roundPages{s, roundsAndRSVPs{s.Rounds, s.RSVPs}}
		kits      = kitPages{s, s.Kits}
		variants  = variantPages{s, s.KitVariants}
		kitsCmp   = kitComparePages{s, s.Kits}
		kitsZip   = kitDownloads{s, s.KitDownloads}
		kitFiles  = kitFilePages{s, s.KitFiles}
		kitSuggs  = suggestionPages{s, s.KitSuggestions}
		inbox     = inboxPages{s, inboxAndGroups{s.MailInbox, s.Network}}
		privacy   = privacyPages{s, s.Privacy}
	)
	return []Route{
		{"GET /{$}", Public, join.home},
		{"GET /join", Public, join.joinForm},
		{"POST /join", Public, join.joinDetails},
		{"POST /join/groups", Public, join.joinGroups},
		{"GET /join/check-email", Public, join.checkEmail},
		{"GET /join/confirm", Public, join.confirmForm},
		{"POST /join/confirm", Public, join.confirm},
		{"POST /join/resend", Public, join.resend},
		{"GET /manage", Public, manage.manage},
		{"POST /manage/groups", Public, manage.manageGroups},
		{"POST /manage/leave", Public, manage.manageLeave},
		{"POST /manage/leave-all", Public, manage.manageLeaveAll},
		{"GET /manage/link", Public, manage.manageLinkForm},
		{"POST /manage/link", Public, manage.manageLink},
		{"GET /unsubscribe", Public, manage.unsubscribeForm},
		{"POST /unsubscribe", Public, manage.unsubscribe},
		{"GET /assets/", Public, s.assets()},

		{"GET /privacy", Public, privacy.notice},
		{"POST /manage/export", Public, privacy.request(links.Export)},
		{"POST /manage/erase", Public, privacy.request(links.Erase)},
		{"GET /privacy/export", Public, privacy.linkPage(links.Export)},
		{"POST /privacy/export", Public, privacy.export},
		{"GET /privacy/erase", Public, privacy.linkPage(links.Erase)},
		{"POST /privacy/erase", Public, privacy.erase},
		{"GET /admin/privacy", Admin, privacy.adminPage},
		{"POST /admin/privacy/export", Admin, privacy.adminExport},
		{"POST /admin/privacy/erase", Admin, privacy.adminErase},

		{"GET /councils", Public, register.registerPage},
		{"GET /councils/sign-up", Public, register.registerForm},
		{"POST /councils/sign-up", Public, register.registerRequest},
		{"GET /councils/confirm", Public, register.registerConfirmForm},
		{"POST /councils/confirm", Public, register.registerConfirm},
		{"GET /proposals", Public, proposals.proposalsPage},
		{"GET /proposals/new", Public, proposals.proposalForm},
		{"POST /proposals/new", Public, proposals.proposalRequest},
		{"GET /proposals/confirm", Public, proposals.proposalConfirmForm},
		{"POST /proposals/confirm", Public, proposals.proposalConfirm},
		{"GET /proposals/{id}", Public, proposals.proposalPage},
		{"POST /proposals/{id}/interest", Public, proposals.interestRequest},
		{"GET /proposals/interest/confirm", Public, proposals.interestConfirmForm},
		{"POST /proposals/interest/confirm", Public, proposals.interestConfirm},
		{"GET /join/invitation", Public, proposals.invitationForm},
		{"POST /join/invitation", Public, proposals.invitationAccept},

		{"GET /rounds/{round}", Public, rounds.roundPage},
		{"GET /rounds/{round}/events/{file}", Public, rounds.calendar},
		{"GET /calendar.ics", Public, rounds.memberCalendar},
		{"GET /rsvp", Public, rounds.rsvpForm},
		{"POST /rsvp", Public, rounds.rsvp},

		{"GET /sign-in", Public, access.signInForm},
		{"POST /sign-in", Public, access.signInRequest},
		{"GET /sign-in/link", Public, access.signInLinkPage},
		{"POST /sign-in/link", Public, access.signIn},
		{"POST /sign-out", SignedIn, access.signOut},
		{"GET /account", SignedIn, access.account},

		{"GET /facilitate", AnyFacilitator, network.facilitateHome},
		{"GET /facilitate/{group}", GroupFacilitator, network.facilitateGroup},
		{"GET /facilitate/{group}/members.csv", GroupFacilitator, network.membersCSV},
		{"POST /facilitate/{group}", GroupFacilitator, network.facilitateUpdate},
		{"GET /facilitate/{group}/rounds/{round}", GroupFacilitator, rounds.eventForm},
		{"POST /facilitate/{group}/rounds/{round}", GroupFacilitator, rounds.eventSave},
		{"GET /facilitate/{group}/rounds/{round}/attendees.csv", GroupFacilitator, rounds.attendeesCSV},

		{"GET /kits/{round}", AnyFacilitator, kits.kitPage},
		{"POST /kits/{round}", AnyFacilitator, kits.kitCreate},
		{"GET /kits/{round}/sections/new", AnyFacilitator, kits.sectionForm},
		{"POST /kits/{round}/sections", AnyFacilitator, kits.sectionSave},
		{"GET /kits/{round}/sections/{section}", AnyFacilitator, kits.sectionForm},
		{"POST /kits/{round}/sections/{section}", AnyFacilitator, kits.sectionSave},
		{"GET /kits/{round}/history", AnyFacilitator, kits.kitHistory},
		{"GET /kits/{round}/agenda", AnyFacilitator, kits.agendaFormPage},
		{"POST /kits/{round}/agenda", AnyFacilitator, kits.agendaSave},
		{"GET /kits/{round}/run-sheet/{group}", AnyFacilitator, kits.runSheet},

		{"GET /kits/{round}/lineage", Admin, variants.lineagePage},
		{"GET /kits/{round}/groups/{group}/agenda", GroupFacilitator, variants.agendaFormPage},
		{"POST /kits/{round}/groups/{group}/agenda", GroupFacilitator, variants.agendaSave},
		// Members of any group: their announcement may link to it.
		{"GET /kits/{round}/for-participants", SignedIn, variants.coreForParticipants},
		{"GET /kits/{round}/groups/{group}", SignedIn, variants.variantPage}, // members of the group read it for participants
		{"POST /kits/{round}/groups/{group}", GroupFacilitator, variants.variantCreate},
		{"GET /kits/{round}/groups/{group}/sections/new", GroupFacilitator, variants.sectionForm},
		{"POST /kits/{round}/groups/{group}/sections", GroupFacilitator, variants.sectionSave},
		{"GET /kits/{round}/groups/{group}/sections/{section}", GroupFacilitator, variants.sectionForm},
		{"POST /kits/{round}/groups/{group}/sections/{section}", GroupFacilitator, variants.sectionSave},
		{"GET /kits/{round}/groups/{group}/history", AnyFacilitator, variants.history},
		{"GET /kits/{round}/groups/{group}/merge", GroupFacilitator, variants.mergePage},
		{"POST /kits/{round}/groups/{group}/merge", GroupFacilitator, variants.mergeAnswer},
		{"POST /kits/{round}/groups/{group}/merge/abandon", GroupFacilitator, variants.mergeAbandon},
		{"GET /kits/{round}/compare", AnyFacilitator, kitsCmp.kitCompare},
		{"GET /kits/{round}/download", AnyFacilitator, kitsZip.kitDownload},
		{"GET /kits/{round}/groups/{group}/download", SignedIn, kitsZip.variantDownload}, // members of the group get it for participants
		{"GET /kits/{round}/files/new", AnyFacilitator, kitFiles.uploadForm},
		{"GET /kits/{round}/files/uploaded", AnyFacilitator, kitFiles.uploaded},
		{"POST /kits/{round}/files", AnyFacilitator, kitFiles.fileAdd},
		{"GET /kits/{round}/files/{file}", AnyFacilitator, kitFiles.download},
		{"POST /kits/{round}/groups/{group}/sections/{section}/suggest", GroupFacilitator, kitSuggs.suggest},
		{"GET /kits/{round}/suggestions", AnyFacilitator, kitSuggs.suggestionsPage},
		{"POST /kits/{round}/suggestions/{id}/accept", AnyFacilitator, kitSuggs.accept},
		{"POST /kits/{round}/suggestions/{id}/decline", AnyFacilitator, kitSuggs.decline},

		{"GET /admin", Admin, network.adminHome},
		{"GET /admin/groups/new", Admin, network.groupNewForm},
		{"POST /admin/groups", Admin, network.groupCreate},
		{"GET /admin/groups/{group}", Admin, network.groupAdmin},
		{"POST /admin/groups/{group}", Admin, network.groupUpdate},
		{"POST /admin/groups/{group}/pause", Admin, network.groupPause},
		{"POST /admin/groups/{group}/resume", Admin, network.groupResume},
		{"POST /admin/groups/{group}/address", Admin, network.groupAddress},
		{"POST /admin/groups/{group}/facilitators", Admin, network.facilitatorAppoint},
		{"POST /admin/groups/{group}/facilitators/remove", Admin, network.facilitatorRemove},
		{"GET /admin/admins", Admin, network.adminsPage},
		{"POST /admin/admins", Admin, network.adminAppoint},
		{"POST /admin/admins/remove", Admin, network.adminRemove},
		{"GET /admin/audit", Admin, network.auditPage},
		{"GET /admin/rounds", Admin, rounds.adminRounds},
		{"GET /admin/rounds/new", Admin, rounds.roundNewForm},
		{"POST /admin/rounds", Admin, rounds.roundCreate},
		{"GET /admin/rounds/{round}", Admin, rounds.roundAdmin},
		{"POST /admin/rounds/{round}/publish", Admin, rounds.roundPublish},
		{"POST /admin/rounds/{round}/close", Admin, rounds.roundClose},
		{"POST /admin/rounds/{round}/resume", Admin, rounds.roundResume},
		{"GET /admin/rounds/{round}/preview/{group}", Admin, rounds.roundPreview},
		{"POST /admin/rounds/{round}/test/{group}", Admin, rounds.roundTest},
		{"GET /admin/councils", Admin, register.adminCouncils},
		{"GET /admin/councils/{code}", Admin, register.adminCouncil},
		{"POST /admin/councils/{code}/list", Admin, register.adminCouncilList},
		{"POST /admin/councils/{code}/decline", Admin, register.adminCouncilDecline},
		{"POST /admin/councils/{code}/withdraw", Admin, register.adminCouncilWithdraw},
		{"GET /admin/proposals", Admin, proposals.adminProposals},
		{"GET /admin/proposals/{id}", Admin, proposals.adminProposal},
		{"POST /admin/proposals/{id}/list", Admin, proposals.proposalList},
		{"POST /admin/proposals/{id}/approve", Admin, proposals.proposalApprove},
		{"POST /admin/proposals/{id}/decline", Admin, proposals.proposalDecline},
		{"POST /admin/proposals/{id}/invite", Admin, proposals.proposalInvite},

		// The inbox: admins see every conversation, facilitators their groups' (the
		// service checks each conversation).
		{"GET /admin/inbox", AnyFacilitator, inbox.inbox},
		{"GET /admin/inbox/{ref}", AnyFacilitator, inbox.conversation},
		{"POST /admin/inbox/{ref}/reply", AnyFacilitator, inbox.reply},
		{"POST /admin/inbox/{ref}/class", AnyFacilitator, inbox.reclassify},
		{"POST /admin/inbox/{ref}/assign", AnyFacilitator, inbox.assign},
		{"POST /admin/inbox/{ref}/close", AnyFacilitator, inbox.close},
		{"GET /admin/inbox/{ref}/attachments/{file}", AnyFacilitator, inbox.attachment},
	}
}

// Route is one pattern, who may use it, and its handler.
type Route struct {
	Pattern string
	Access  Access
	Handler http.HandlerFunc
}

// Handler returns the whole service as one http.Handler.
func (s *Server) Handler() http.Handler {
	return s.secure(s.sameOrigin(s.identify(s.friendlyErrors(s.router()))))
}

// oneClickUnsubscribe is the one state-changing route that takes requests from other
// sites: mail clients post it (RFC 8058), some from a webmail page in the browser,
// which sends Sec-Fetch-Site: cross-site. Its signed link is its authority.
const oneClickUnsubscribe = "POST /unsubscribe"

// sameOrigin refuses, with 403, a state-changing request that a browser says came from
// another site (Go's http.CrossOriginProtection: Sec-Fetch-Site, or Origin against Host
// and the service's own address). This is the service's protection against cross-site
// request forgery; no form carries a token. A request with neither header is not from
// a browser that could carry a victim's cookies across sites (or from one so old that
// it also keeps our SameSite=Lax cookies from being sent cross-site), so it is let
// through, as mail clients' one-click unsubscribe needs.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.Announcer != nil {
		if u, err := url.Parse(s.Announcer.BaseURL); err == nil && u.Host != "" {
			// Behind a proxy that rewrites Host, the browser's Origin is still this.
			cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	cop.AddInsecureBypassPattern(oneClickUnsubscribe)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Log.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		s.problem(w, r, http.StatusForbidden, "This form could not be sent", "For your security, forms only work from the page we sent them from. Go back, refresh the page, then try again.")
	}))
	return cop.Handler(next)
}

// mux registers routes on a new ServeMux, each behind its access check, and POST
// routes behind the form check.
func (s *Server) mux(routes []Route) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := s.guard(rt.Access, rt.Handler)
		if strings.HasPrefix(rt.Pattern, "POST ") {
			h = s.acceptForm(h)
		}
		mux.Handle(rt.Pattern, h)
	}
	return mux
}

func (s *Server) assets() http.HandlerFunc {
	sub, _ := fs.Sub(static, "static")
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}
}

// secure sets the headers every response carries, and HSTS when the service's
// address (BASE_URL) is HTTPS.
func (s *Server) secure(next http.Handler) http.Handler {
	https := strings.HasPrefix(s.Announcer.BaseURL, "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Links carry tokens: never send them on to another site.
		h.Set("Referrer-Policy", "no-referrer")
		if https {
			// Served over HTTPS: browsers must never fall back to plain HTTP, where a
			// link's token or a session could be read on the way.
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// acceptForm checks what every POST must be: a URL-encoded form of at most 64 KB. It
// parses the form.
func (s *Server) acceptForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/x-www-form-urlencoded" {
			s.problem(w, r, http.StatusUnsupportedMediaType, "This form could not be read", "The form was sent in a way we do not accept. Go back, then try again.")
			return
		}
		if r.ContentLength > MaxBodyBytes {
			s.problem(w, r, http.StatusRequestEntityTooLarge, "What you sent is too large", "The form was larger than we accept. Go back, shorten your answers, then try again.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				s.problem(w, r, http.StatusRequestEntityTooLarge, "What you sent is too large", "The form was larger than we accept. Go back, shorten your answers, then try again.")
				return
			}
			s.problem(w, r, http.StatusBadRequest, "This form could not be read", "The form was not sent correctly. Go back, then try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// friendlyErrors replaces the router's plain-text 404 and 405 with pages.
func (s *Server) friendlyErrors(routes *router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux := routes.of(r)
		if _, pattern := mux.Handler(r); pattern == "" {
			iw := &intercept{ResponseWriter: w}
			mux.ServeHTTP(iw, r)
			switch iw.status {
			case http.StatusMethodNotAllowed:
				s.problem(w, r, http.StatusMethodNotAllowed, "You cannot do that on this page", "This page does not accept that kind of request.")
			case http.StatusNotFound:
				s.problem(w, r, http.StatusNotFound, "Page not found", "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address.")
			}
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// intercept keeps the router's status and headers (Allow) and drops its body.
type intercept struct {
	http.ResponseWriter
	status int
}

func (i *intercept) WriteHeader(code int) {
	i.status = code
	if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		i.ResponseWriter.WriteHeader(code)
	}
}

func (i *intercept) Write(b []byte) (int, error) {
	if i.status == http.StatusNotFound || i.status == http.StatusMethodNotAllowed {
		return len(b), nil
	}
	return i.ResponseWriter.Write(b)
}

// clientIP returns the address of the client: API Gateway's source IP in Lambda (the
// adapter puts it in RemoteAddr), the peer's address locally.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// token returns the link token of a request, from the form or the query.
func token(r *http.Request) string {
	if t := r.PostForm.Get("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

// values returns the posted form.
func values(r *http.Request) url.Values { return r.PostForm }

// Domain returns the host name of the service's public address.
func (s *Server) Domain() string {
	u, err := url.Parse(s.Announcer.BaseURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}
