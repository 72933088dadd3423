package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

//go:embed templates
var templateFiles embed.FS

// pageNames lists every page template.
var pageNames = []string{
	"home", "join", "groups", "check-email", "confirm", "confirmed", "link-problem", "manage", "unsubscribe", "manage-link", "problem",
	"sign-in", "sign-in-link", "admin", "group-form", "group-admin", "group-conflict", "admins", "audit", "facilitate", "facilitate-group",
	"register", "register-form", "sent", "confirm-link", "done", "admin-councils", "admin-council",
	"proposals", "proposal-form", "proposal", "admin-proposals", "admin-proposal",
	"admin-rounds", "round-form", "admin-round", "round-preview", "round", "event-form", "rsvp",
}

// funcs are the helpers page templates may call.
var funcs = template.FuncMap{
	"date":           dateOf,
	"stalledMinutes": func() int { return int(pg.SendingLease.Minutes()) },
	"when":           pg.Event.When,
	// dict builds the arguments of a shared form field.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// first returns a form's first value for a field.
	"first": func(form map[string][]string, name string) string {
		if v := form[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	},
	// values flattens a form to one value a field, for the date inputs.
	"values": func(form map[string][]string) map[string]string {
		m := map[string]string{}
		for k, v := range form {
			if len(v) > 0 {
				m[k] = v[0]
			}
		}
		return m
	},
	"list": func(s ...string) []string { return s },
	"add": func(n ...int) int {
		sum := 0
		for _, x := range n {
			sum += x
		}
		return sum
	},
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(pg.London).Format("2 January 2006 at 3:04pm")
	},
}

// dateOf formats a date the GOV.UK way: 27 November 2026.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(pg.London).Format("2 January 2006")
}

// pages holds one template set per page, each with the shared layout, parsed on first
// use: a cold start parses only the page it is asked for.
var pages = func() map[string]func() (*template.Template, error) {
	m := make(map[string]func() (*template.Template, error), len(pageNames))
	for _, name := range pageNames {
		m[name] = sync.OnceValues(func() (*template.Template, error) {
			return template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		})
	}
	return m
}()

// page is what a page template may use. Each page uses the fields it needs.
type page struct {
	Title   string
	Errors  pg.FieldErrors
	Message string
	Banner  string

	Form     pg.SignupForm
	Councils []pg.Council
	Groups   []pg.Group
	Hidden   url.Values      // answers carried from the details page
	Chosen   map[string]bool // groups ticked
	Region   string
	// Suggested is set when the groups were ticked for the person's region.
	Suggested     bool
	NoGroupRegion string

	Token      string
	Signup     pg.Signup
	Joined     []pg.Group
	Membership pg.MembershipView
	Hours      int
	Resend     bool
	Used       bool
	Done       bool
	Minutes    int

	Caller           pg.Caller
	Link, LinkText   string // a way on from a problem page
	Group            pg.Group
	Regions          []string
	Create           bool
	Facilitators     []string
	Admins           []string
	ConfiguredAdmins []string
	Audit            []pg.AuditEntry
	Next             string
	Members          []pg.MemberRow
	MembersPage      pg.MembersPage
	Status           string
	Differences      []difference // the conflict page: what is stored now and what was sent
	AllFields        bool         // the conflict page: the admin's form (every field), not the facilitator's

	Register     []pg.RegionEntries
	Register1    pg.RegisterForm
	Entries      []pg.RegisterEntry
	Waiting      []pg.RegisterEntry // council sign-ups waiting for an admin
	Entry        pg.RegisterEntry
	Contacts     []pg.RegisterContact
	Action       string // where a confirmation page's form posts
	Button       string
	Summary      []summary
	Proposals    []pg.Proposal
	Proposal     pg.Proposal
	ProposalForm pg.ProposalForm

	Rounds       []pg.Round
	Round        pg.Round
	RoundRows    []roundRow
	Publication  pg.Publication
	Refresh      bool // the page refreshes itself every 5 seconds (the person asked; no JavaScript)
	Stalled      bool // a round's sending has not moved for longer than a lease
	Form2        map[string][]string
	Brief        *pg.Message
	Announcement *pg.Message
	Event        pg.Event
	Attendees    []pg.Attendance
	RSVP         pg.RSVP
	Answer       string
}

// render writes a page with a status. Pages are never cached: many carry tokens.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Caller = caller(r)
	var buf bytes.Buffer
	tmpl, err := pages[name]()
	if err == nil {
		err = tmpl.ExecuteTemplate(&buf, "layout", p)
	}
	if err != nil {
		s.Log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "Sorry, there is a problem with the service", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if p.Refresh {
		// Asked for by the person (see the round's page), and stopped by them: WCAG
		// 2.2.1 lets a page refresh itself when the person controls it.
		h.Set("Refresh", "5")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// problem shows a page that says what went wrong and what to do.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, status, "problem", page{Title: title, Message: message})
}

// fail maps an error from the domain to a status and a page, in one place. Only
// internal errors and unavailable dependencies are logged as errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, pg.ErrLinkExpired):
		s.render(w, r, http.StatusGone, "link-problem", page{Title: "This link has expired", Message: pg.MessageOf(err)})
		return
	case errors.Is(err, pg.ErrLinkUsed), errors.Is(err, pg.ErrLinkReplaced):
		s.render(w, r, http.StatusGone, "link-problem", page{Title: "This link cannot be used again", Message: pg.MessageOf(err), Used: true})
		return
	case errors.Is(err, pg.ErrLinkInvalid):
		s.render(w, r, http.StatusNotFound, "link-problem", page{Title: "This link is not valid", Message: pg.MessageOf(err)})
		return
	}
	msg := pg.MessageOf(err)
	switch pg.KindOf(err) {
	case pg.KindInvalid:
		s.problem(w, r, http.StatusBadRequest, "There is a problem", msg)
	case pg.KindNotFound:
		s.problem(w, r, http.StatusNotFound, "We could not find that", msg)
	case pg.KindGone:
		s.problem(w, r, http.StatusGone, "This is no longer available", msg)
	case pg.KindConflict:
		s.problem(w, r, http.StatusConflict, "Something changed", msg)
	case pg.KindForbidden:
		s.problem(w, r, http.StatusForbidden, "You cannot do that", msg)
	case pg.KindTooMany:
		s.Log.WarnContext(r.Context(), "rate limit reached", "path", r.URL.Path)
		s.problem(w, r, http.StatusTooManyRequests, "Too many requests", msg)
	case pg.KindUnavailable:
		s.Log.ErrorContext(r.Context(), "dependency unavailable", "path", r.URL.Path, "error", err)
		if msg == "" {
			msg = "The service is not available just now. Try again in a few minutes."
		}
		s.problem(w, r, http.StatusServiceUnavailable, "Sorry, the service is unavailable", msg)
	default:
		s.Log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "error", err)
		s.problem(w, r, http.StatusInternalServerError, "Sorry, there is a problem with the service", "Try again later. Nothing you sent has been lost: if you were filling in a form, go back and send it again.")
	}
}
