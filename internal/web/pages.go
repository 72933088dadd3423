package web

import (
	"bytes"
	"embed"
	"github.com/DataDog/datadog-agent/pkg/template/html"
	"net/http"
	"strconv"
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
	"kit-form", "kit", "kit-section", "kit-history",
	"kit-agenda", "kit-run-sheet",
	"kit-variant", "kit-variant-new", "kit-variant-history", "kit-merge", "kit-lineage",
	"kit-compare",
	"kit-upload", "kit-file",
	"kit-suggestions",
	"inbox", "conversation",
	"kit-participant",
	"privacy", "privacy-link", "admin-privacy",
}

// funcs are the helpers page templates may call.
var funcs = template.FuncMap{
	// What the pages ask of the service's types is asked through these functions: the
	// templates never call a method (see pageFuncs' comment below).
	"signedIn":        pg.Caller.SignedIn,
	"isFacilitator":   pg.Caller.IsFacilitator,
	"area":            pg.Group.Area,
	"mailLocal":       pg.Group.MailLocal,
	"isMember":        pg.Person.IsMember,
	"facilitatorOnly": func(v interface{ FacilitatorOnly() bool }) bool { return v.FacilitatorOnly() },
	"summary":         pg.AgendaRow.Summary,
	"same":            func(v interface{ Same() bool }) bool { return v.Same() },
	"errorFor":        pg.FieldErrors.For,
	"listed":          func(v interface{ Listed() bool }) bool { return v.Listed() },
	"pending":         pg.RegisterEntry.Pending,
	"sizeText":        func(v interface{ SizeText() string }) string { return v.SizeText() },
	"typeName":        func(v interface{ TypeName() string }) string { return v.TypeName() },
	"left":            pg.Publication.Left,
	"settled":         pg.Publication.Settled,
	// a round's delivery figures
	"arrived":                 pg.DeliveryCounts.Arrived,
	"countsTotal":             pg.DeliveryCounts.Total,
	"bouncePercent":           pg.DeliveryCounts.BouncePercent,
	"complaintPercent":        pg.DeliveryCounts.ComplaintPercent,
	"bounceOverReview":        pg.DeliveryCounts.BounceOverReview,
	"complaintOverReview":     pg.DeliveryCounts.ComplaintOverReview,
	"groupFigures":            (*roundView).GroupFigures,
	"percent":                 pg.Publication.Percent,
	"isZero":                  time.Time.IsZero,
	"filesWithoutAlternative": pg.KitDoc.FilesWithoutAlternative,
	"attachmentFile":          pg.InboundAttachment.File,
	"runSheetFacilitator":     pg.RunSheet.Facilitator,
	"runSheetEnd":             pg.RunSheet.End,
	// and of the pages' own views
	"inboxLists":       (*inboxView).Lists,
	"groupName":        (*conversationView).GroupName,
	"conversationOpen": (*conversationView).Open,
	"behindText":       variantView.BehindText,
	"paragraphs":       func(v interface{ Paragraphs() []string }) []string { return v.Paragraphs() },
	"rowField":         agendaFormRow.Field,
	"date":             dateOf,
	"dateTime":         dateTime,
	"classWords":       pg.MailClassWords,
	"stalledFor":       func() string { return pg.DurationText(pg.SendingLease) },
	"when":             pg.Event.When,
	"licence":          pg.LicenceName,
	// possessive is a name's possessive: "London’s", "Midlands’".
	"possessive": pg.Possessive,
	// minutes and clock say an agenda's length and a run sheet's times.
	"minutes":       pg.MinutesText,
	"clock":         pg.Clock,
	"agendaMinutes": pg.AgendaMinutes,
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
	// period says a retention period: "48 hours", "90 days", "12 months", "6 years".
	"period": func(d time.Duration) string {
		const year = 365 * 24 * time.Hour
		switch {
		case d == year:
			return "12 months"
		case d > year && d%year == 0:
			return strconv.FormatInt(int64(d/year), 10) + " years"
		}
		return pg.DurationText(d)
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

// base is what every page has: its title, the errors on its form, a success banner,
// and who is asking (set by render, for the menu). Each page's own view type embeds it
// and adds what that page shows; the types are declared beside their handlers.
type base struct {
	Title  string
	Errors pg.FieldErrors
	Banner string // a success message at the top of the page
	Caller pg.Caller
}

func (b *base) common() *base { return b }

// view is a page's view: a pointer to a struct that embeds base.
type view interface{ common() *base }

// contact is a name and an email address as typed into a form, kept on error.
type contact struct{ Name, Email string }

// render writes a page with a status. Pages are never cached: many carry tokens.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.common().Caller = caller(r)
	var buf bytes.Buffer
	tmpl, err := pages[name]()
	if err == nil {
		err = tmpl.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		s.Log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "Sorry, there is a problem with the service", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
