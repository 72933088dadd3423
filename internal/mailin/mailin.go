// Package mailin reads the mail people send to the service. One raw message, as SES
// stores it in S3 (or the local SMTP listener receives it), becomes a Message: who
// wrote it and to whom, its subject made safe to show and to answer, its text with the
// quoted replies and signature cut off, its attachments listed, SES's verdicts, and
// whether it is automatic mail that must never be answered (RFC 3834 and the signals
// help desks check). Parsing never fails on a message that is merely malformed: what
// can be read is read, and what could not is in Problems.
package mailin

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/authres"
	"github.com/jhillyerd/enmime/v2"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// MaxMessage is the largest message SES receives (and the local listener accepts).
const MaxMessage = 40 << 20

// MaxSubject is the most of a subject that is kept, in characters.
const MaxSubject = 200

// LoopHeader is the header every email the service sends carries: mail that comes back
// with it is ours, and is never answered.
const LoopHeader = "X-Peergroups-Loop"

// Message is what is read from one email.
type Message struct {
	MessageID  string   // without angle brackets; "" when it has none
	From       string   // the author's address, lower case; "" when there is not exactly one
	FromName   string   // the author's display name, made safe to show
	ReturnPath string   // the bounce address, lower case; "" when none or null (<>)
	NullSender bool     // Return-Path: <>
	To, Cc     []string // addresses, lower case
	Subject    string   // decoded, one line, no control characters, at most MaxSubject characters
	InReplyTo  string   // without angle brackets
	References []string // without angle brackets, oldest first
	Date       time.Time

	Text        string // the text (the HTML part as text when there is no text part)
	NewText     string // Text without quoted replies, forwarded headers and the signature
	HTML        string // the HTML part as sent: never shown before it is sanitised
	Attachments []Attachment

	Automatic string   // why it is automatic mail ("Auto-Submitted: auto-replied", …); "" when a person wrote it
	Report    string   // "delivery-status" or "feedback-report" for a multipart/report; "" otherwise
	Verdicts  Verdicts // SES's verdicts, from its headers
	Problems  []string // what could not be read (malformed MIME and the like)
}

// Attachment is a file attached to a message (its content stays in the raw message).
type Attachment struct {
	Name    string // as sent, made safe to show
	Type    string // the media type the sender gave
	Size    int
	Content []byte // its bytes, decoded (the parser's own: not copied), for storing apart
}

// Verdicts are the checks SES made of a message: PASS, FAIL, GRAY,
// PROCESSING_FAILED, or "" when the message does not say.
type Verdicts struct {
	Spam, Virus, SPF, DKIM, DMARC string
	DMARCPolicy                   string // the sender domain's policy when DMARC failed: "reject", "quarantine", "none" or ""
}

// Parse reads a raw message. It fails only when the message has no header block at
// all, or is over MaxMessage.
func Parse(raw []byte) (*Message, error) {
	if len(raw) > MaxMessage {
		return nil, fmt.Errorf("message of %d bytes is over the %d MB limit", len(raw), MaxMessage>>20)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	m := &Message{
		MessageID: bareID(env.GetHeader("Message-Id")),
		InReplyTo: bareID(env.GetHeader("In-Reply-To")),
		Subject:   pg.OneLine(env.GetHeader("Subject"), MaxSubject),
		Text:      cleanText(env.Text),
		HTML:      strings.ToValidUTF8(env.HTML, "\uFFFD"),
	}
	for _, id := range strings.Fields(env.GetHeader("References")) {
		if id = bareID(id); id != "" {
			m.References = append(m.References, id)
		}
	}
	if d, err := env.Date(); err == nil {
		m.Date = d
	}
	m.readFrom(env)
	m.To, m.Cc = addresses(env, "To"), addresses(env, "Cc")
	m.NewText = NewText(m.Text)
	for _, a := range append(env.Attachments, env.Inlines...) {
		m.Attachments = append(m.Attachments, Attachment{Name: pg.OneLine(a.FileName, 120), Type: pg.OneLine(a.ContentType, 100), Size: len(a.Content), Content: a.Content})
	}
	for _, e := range env.Errors {
		m.Problems = append(m.Problems, pg.OneLine(e.Error(), 200))
	}
	if mt, params, err := mime.ParseMediaType(env.GetHeader("Content-Type")); err == nil && mt == "multipart/report" {
		switch strings.ToLower(params["report-type"]) {
		case "delivery-status":
			m.Report = "delivery-status"
		case "feedback-report":
			m.Report = "feedback-report"
		}
	}
	m.Automatic = automatic(env)
	m.Verdicts = verdicts(env)
	return m, nil
}

// readFrom reads the author and the bounce address. A message with no From, or with
// several authors, has no From: nobody is answered on its behalf.
func (m *Message) readFrom(env *enmime.Envelope) {
	froms := env.GetHeaderValues("From")
	if len(froms) == 1 {
		if list, err := env.AddressList("From"); err == nil && len(list) == 1 {
			m.From = strings.ToLower(list[0].Address)
			m.FromName = pg.OneLine(list[0].Name, 100)
		} else if err != nil {
			m.Problems = append(m.Problems, "From cannot be read")
		} else {
			m.Problems = append(m.Problems, fmt.Sprintf("From names %d people", len(list)))
		}
	} else if len(froms) > 1 {
		m.Problems = append(m.Problems, fmt.Sprintf("%d From headers", len(froms)))
	}
	rp := strings.TrimSpace(env.GetHeader("Return-Path"))
	switch {
	case rp == "<>":
		m.NullSender = true
	case rp != "":
		if a, err := mail.ParseAddress(rp); err == nil {
			m.ReturnPath = strings.ToLower(a.Address)
		}
	}
}

// addresses are the addresses of one header; what cannot be read is left out.
func addresses(env *enmime.Envelope, header string) []string {
	list, err := env.AddressList(header)
	if err != nil && !errors.Is(err, mail.ErrHeaderNotPresent) {
		return nil
	}
	var out []string
	for _, a := range list {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}

// automatic says why a message was sent by a machine, or "" when a person sent it.
func automatic(env *enmime.Envelope) string {
	if v := strings.ToLower(strings.TrimSpace(env.GetHeader("Auto-Submitted"))); v != "" && v != "no" {
		return "Auto-Submitted: " + pg.OneLine(v, 40)
	}
	switch p := strings.ToLower(strings.TrimSpace(env.GetHeader("Precedence"))); p {
	case "bulk", "junk", "list", "auto_reply":
		return "Precedence: " + p
	}
	for _, h := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe", "List-Post", LoopHeader} {
		if len(env.GetHeaderValues(h)) > 0 {
			return h
		}
	}
	if strings.TrimSpace(env.GetHeader("Return-Path")) == "<>" {
		return "a null sender (Return-Path: <>)"
	}
	if env.Root != nil && strings.EqualFold(env.Root.ContentType, "multipart/report") {
		return "a report (multipart/report)"
	}
	return ""
}

// verdicts reads SES's verdict headers and its Authentication-Results.
func verdicts(env *enmime.Envelope) Verdicts {
	v := Verdicts{
		Spam:  strings.ToUpper(pg.OneLine(env.GetHeader("X-SES-Spam-Verdict"), 20)),
		Virus: strings.ToUpper(pg.OneLine(env.GetHeader("X-SES-Virus-Verdict"), 20)),
	}
	for _, header := range env.GetHeaderValues("Authentication-Results") {
		id, results, err := authres.Parse(header)
		if err != nil || !strings.EqualFold(id, "amazonses.com") {
			continue // only SES's own results count: anyone can write this header
		}
		for _, r := range results {
			switch r := r.(type) {
			case *authres.SPFResult:
				v.SPF = strings.ToUpper(string(r.Value))
			case *authres.DKIMResult:
				v.DKIM = strings.ToUpper(string(r.Value))
			case *authres.DMARCResult:
				v.DMARC = strings.ToUpper(string(r.Value))
			}
		}
		v.DMARCPolicy = dmarcPolicy(header)
	}
	return v
}

// dmarcPolicy reads the policy SES notes beside a failed DMARC check, as in
// "dmarc=fail (p=REJECT sp=REJECT pct=100) header.from=example.org".
func dmarcPolicy(header string) string {
	for _, clause := range strings.Split(header, ";") {
		clause = strings.ToLower(clause)
		if !strings.Contains(clause, "dmarc=") {
			continue
		}
		for _, f := range strings.FieldsFunc(clause, func(r rune) bool { return r == ' ' || r == '(' || r == ')' }) {
			if p, ok := strings.CutPrefix(f, "p="); ok {
				return p
			}
		}
	}
	return ""
}

// bareID is a message ID without its angle brackets and spaces; "" when it is not one.
func bareID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if s == "" || len(s) > 250 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r >= 0x7f }) {
		return ""
	}
	return s
}

// cleanText is a body's text as kept: valid UTF-8, LF line ends, no NULs.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\x00", "")
	return strings.TrimSpace(s)
}
