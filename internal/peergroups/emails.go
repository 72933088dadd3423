package peergroups

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"
	"time"

	htmltemplate "github.com/DataDog/datadog-agent/pkg/template/html"
	texttemplate "github.com/DataDog/datadog-agent/pkg/template/text"
)

// Header is one extra header of an email. Values are ours (URLs), never user text.
type Header struct {
	Name  string
	Value string
}

// Message is an email ready to send: a text part, an HTML part and extra headers.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	Headers []Header
	Kind    string `json:",omitempty"` // which email it is (its template's name), for the audit trail
	// Tags are the SES message tags it is sent with (ASCII letters, digits, _ and -),
	// which SES's events about it carry back: a ledger row's or an outbox item's.
	Tags map[string]string `json:",omitempty"`
	// Requested is set on an email the person asked for just now through the web form
	// (a sign-up's confirmation link, a sign-in link), and on a reply a facilitator or
	// admin wrote to a message they sent us: it is sent even to a suppressed address.
	Requested bool `json:",omitempty"`
}

//go:embed emails
var emailFiles embed.FS

// EmailFrame is the HTML every email is framed in, these and the announcements alike:
// it defines "top" (the document, its title, the service's name) and "bottom" (the
// manage link, then the end). Its actions are written [[ ]], so that the announcements,
// whose {{ }} are the mail service's placeholders, can use it; "bottom" calls
// "manage-href", which each set of emails defines as its manage link.
//
//go:embed email-frame.html
var EmailFrame string

// The email templates, parsed on first use rather than at every cold start. They are
// executed by a copy of Go's templates that cannot call methods (see EmailFuncs).
var (
	textEmails = sync.OnceValues(func() (*texttemplate.Template, error) {
		return texttemplate.New("").Funcs(EmailFuncs).ParseFS(emailFiles, "emails/*.txt")
	})
	htmlEmails = sync.OnceValues(func() (*htmltemplate.Template, error) {
		t, err := htmltemplate.New("").Funcs(EmailFuncs).Delims("[[", "]]").Parse(EmailFrame)
		if err != nil {
			return nil, err
		}
		if _, err := t.New("manage-href").Delims("{{", "}}").Parse(`{{.ManageLink}}`); err != nil {
			return nil, err
		}
		return t.Delims("{{", "}}").ParseFS(emailFiles, "emails/*.html")
	})
)

// EmailFuncs are what the email templates compute, as functions: our templates never
// call a method. Go's own template packages call methods by name, which makes the
// linker keep every exported method of every type a program puts in an interface
// (all of S3's operations, for one); the copy we use (DataDog's, the standard
// library's code without method calls) lets it drop them, and each function starts
// faster for it (see README, "Cold start").
var EmailFuncs = texttemplate.FuncMap{
	"when":       Event.When,
	"words":      MailClass.Words,
	"paragraphs": paragraphs,
	"date":       func(t time.Time) string { return t.Format("2 January 2006") },
}

// paragraphs splits text at its blank lines.
func paragraphs(text string) []string {
	var ps []string
	for p := range strings.SplitSeq(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// emailData is what every email template may use.
type emailData struct {
	Name       string
	Groups     []Group
	Interest   string
	Link       string // the email's main link
	ManageLink string // "Manage your membership"
	Hours      int
	Minutes    int
	Days       int
	Council    string
	Proposal   *Proposal
	Reason     string
	When       string
	Round      *Round
	Mail       *mailAckData // the mail-in emails'
	// KitProblems are the accessibility errors of a group's version of a kit.
	KitProblems []KitProblem
}

// render builds a message from the text and HTML templates called name.
func render(to, subject, name string, data emailData) (Message, error) {
	textT, err := textEmails()
	if err != nil {
		return Message{}, fmt.Errorf("parse text emails: %w", err)
	}
	htmlT, err := htmlEmails()
	if err != nil {
		return Message{}, fmt.Errorf("parse html emails: %w", err)
	}
	var text, html bytes.Buffer
	if err := textT.ExecuteTemplate(&text, name+".txt", data); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", name, err)
	}
	page := struct {
		Subject string
		emailData
	}{subject, data}
	if err := htmlT.ExecuteTemplate(&html, name+".html", page); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", name, err)
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String(), Kind: name}, nil
}
