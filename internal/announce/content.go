package announce

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	htmltemplate "github.com/DataDog/datadog-agent/pkg/template/html"
	texttemplate "github.com/DataDog/datadog-agent/pkg/template/text"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// How long the links in an announcement last.
const (
	RSVPLinkTTL        = 120 * 24 * time.Hour
	manageLinkTTL      = pg.ManageLinkTTL
	unsubscribeLinkTTL = pg.UnsubscribeLinkTTL
)

//go:embed emails
var files embed.FS

var (
	textEmails = sync.OnceValues(func() (*texttemplate.Template, error) {
		return texttemplate.New("").Funcs(pg.EmailFuncs).Delims("[[", "]]").ParseFS(files, "emails/*.txt")
	})
	htmlEmails = sync.OnceValues(func() (*htmltemplate.Template, error) {
		t, err := htmltemplate.New("").Funcs(pg.EmailFuncs).Delims("[[", "]]").Parse(pg.EmailFrame)
		if err != nil {
			return nil, err
		}
		return t.ParseFS(files, "emails/*.html")
	})
)

// The templates use [[ ]] for Go's actions, so that {{ }} stays for the mail
// service's own placeholders (the recipient's name and links), always written
// {{{x}}}: the text part takes the value as it is, the HTML part takes x_html, which
// we escaped (SES escapes {{x}} in HTML parts, the SES stand-in does not, so neither
// is relied on).

// content is what an email template is given. Everything typed by a person has been
// through pg.TemplateText, so that the mail service prints it as typed and never
// takes it for a placeholder; html/template then escapes it for the HTML part.
type content struct {
	Round    pg.Round
	Group    pg.Group
	Event    pg.Event
	HasEvent bool
	Members  int
	RoundURL string
	KitURL   string // the kit the group runs its event from; "" when the round has none
	// OnlineHref is the event's online link as typed, for href attributes only:
	// html/template percent-encodes every brace and backslash in a URL attribute, so
	// nothing there can reach the mail service's template.
	OnlineHref string
}

func (a *Announcer) content(r pg.Round, g pg.Group, e pg.Event, hasEvent bool, members int) content {
	online := e.OnlineURL
	r.Title, r.Summary = pg.TemplateText(r.Title), pg.TemplateText(r.Summary)
	g.Name = pg.TemplateText(g.Name)
	e.Venue, e.Address, e.Note, e.OnlineURL = pg.TemplateText(e.Venue), pg.TemplateText(e.Address), pg.TemplateText(e.Note), pg.TemplateText(e.OnlineURL)
	return content{
		Round: r, Group: g, Event: e, HasEvent: hasEvent, Members: members,
		RoundURL:   a.BaseURL + "/rounds/" + strconv.Itoa(r.Number),
		OnlineHref: online,
	}
}

// render builds a template from the emails called name. subject is template text:
// what it holds of c was escaped with c.
func (a *Announcer) render(name, subject string, c content) (pg.BulkTemplate, error) {
	textT, err := textEmails()
	if err != nil {
		return pg.BulkTemplate{}, fmt.Errorf("parse announcement emails: %w", err)
	}
	htmlT, err := htmlEmails()
	if err != nil {
		return pg.BulkTemplate{}, fmt.Errorf("parse announcement emails: %w", err)
	}
	var text, html bytes.Buffer
	if err := textT.ExecuteTemplate(&text, name+".txt", c); err != nil {
		return pg.BulkTemplate{}, fmt.Errorf("render %s: %w", name, err)
	}
	if err := htmlT.ExecuteTemplate(&html, name+".html", struct {
		Subject string
		content
	}{subject, c}); err != nil {
		return pg.BulkTemplate{}, fmt.Errorf("render %s: %w", name, err)
	}
	return pg.BulkTemplate{Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// briefTemplate is the facilitators' brief for a group.
func (a *Announcer) briefTemplate(r pg.Round, g pg.Group, e pg.Event, hasEvent bool, members int, kit string) (pg.BulkTemplate, error) {
	c := a.content(r, g, e, hasEvent, members)
	c.KitURL = kit
	return a.render("brief", fmt.Sprintf("Round %d is published: your brief for %s", r.Number, c.Group.Name), c)
}

// announceTemplate is the members' announcement of a group's event.
func (a *Announcer) announceTemplate(r pg.Round, g pg.Group, e pg.Event, kit string) (pg.BulkTemplate, error) {
	c := a.content(r, g, e, true, 0)
	c.KitURL = kit
	return a.render("announce", fmt.Sprintf("Round %d: %s – the %s peer group on %s", r.Number, c.Round.Title, c.Group.Name, e.Start.In(pg.London).Format("2 January")), c)
}

// reminderTemplate is the reminder of a group's event, sent to each person going.
func (a *Announcer) reminderTemplate(r pg.Round, g pg.Group, e pg.Event) (pg.BulkTemplate, error) {
	c := a.content(r, g, e, true, 0)
	return a.render("reminder", fmt.Sprintf("Reminder: the %s peer group meets on %s", c.Group.Name, e.Start.In(pg.London).Format("Monday 2 January")), c)
}

// destination is one recipient's values: their name, their links, their headers.
// Values are never read as template, so they need no escaping for it; each has an
// HTML-escaped twin, x_html, for the HTML part.
func (a *Announcer) destination(round int, b batch, r recipient) (pg.BulkDestination, error) {
	manage, err := a.Links.Seal(links.Claims{Purpose: links.Manage, Email: r.email}, manageLinkTTL)
	if err != nil {
		return pg.BulkDestination{}, err
	}
	// The tags let SES's events about this email find its ledger row (feedback).
	d := pg.BulkDestination{To: r.email, Tags: pg.LedgerTags(round, b.kind, b.group.ID), Data: map[string]string{
		"name":   r.name,
		"manage": a.BaseURL + "/manage?token=" + url.QueryEscape(manage),
	}}
	if b.kind == pg.LedgerAnnouncement {
		unsubscribe, err := a.Links.Seal(links.Claims{Purpose: links.Unsubscribe, Email: r.email, Groups: []string{b.group.ID}}, unsubscribeLinkTTL)
		if err != nil {
			return pg.BulkDestination{}, err
		}
		d.Headers = pg.ListUnsubscribe(a.BaseURL + "/unsubscribe?token=" + url.QueryEscape(unsubscribe))
		rsvp, err := a.Links.Seal(links.Claims{Purpose: links.RSVP, Email: r.email, Subject: fmt.Sprintf("%d/%s", round, b.group.ID), Name: r.name}, RSVPLinkTTL)
		if err != nil {
			return pg.BulkDestination{}, err
		}
		d.Data["going"] = a.BaseURL + "/rsvp?answer=going&token=" + url.QueryEscape(rsvp)
		d.Data["cantgo"] = a.BaseURL + "/rsvp?answer=not-going&token=" + url.QueryEscape(rsvp)
		calendar, err := pg.CalendarLink(a.Links, r.email, round, b.group.ID, b.event.End, a.Now())
		if err != nil {
			return pg.BulkDestination{}, err
		}
		d.Data["calendar"] = a.BaseURL + calendar
	}
	for _, k := range []string{"name", "manage", "going", "cantgo", "calendar"} {
		if v, ok := d.Data[k]; ok {
			d.Data[k+"_html"] = htmltemplate.HTMLEscapeString(v)
		}
	}
	return d, nil
}

// Preview returns the brief and, when the group has an event, the announcement of a
// round for one group, as they would be sent to to (the admin asking): the templates
// that are sent, filled by pg.BulkTemplate.Render as the mail service fills them. The
// round need not be published.
func (a *Announcer) Preview(ctx context.Context, round int, groupID, to, name string) (brief, announcement *pg.Message, err error) {
	r, err := a.Store.Round(ctx, round)
	if err != nil {
		return nil, nil, err
	}
	groups, err := a.Store.Groups(ctx)
	if err != nil {
		return nil, nil, err
	}
	g, ok := pg.FindGroup(groups, groupID)
	if !ok {
		return nil, nil, pg.Errorf(pg.KindNotFound, "There is no group called %s.", groupID)
	}
	events, err := a.Store.Events(ctx, round)
	if err != nil {
		return nil, nil, err
	}
	var event pg.Event
	hasEvent := false
	for _, e := range events {
		if e.GroupID == groupID {
			event, hasEvent = e, true
		}
	}
	members, err := a.Store.CountMembers(ctx, groupID, pg.StatusConfirmed)
	if err != nil {
		return nil, nil, err
	}
	var pub *pg.Publication // nil while the round is a draft: the kits are checked now
	switch p, err := a.Store.Publication(ctx, round); {
	case err == nil:
		pub = &p
	case pg.KindOf(err) != pg.KindNotFound:
		return nil, nil, err
	}
	kits, err := a.kitLinks(ctx, round, pub)
	if err != nil {
		return nil, nil, err
	}
	bt, err := a.briefTemplate(r, g, event, hasEvent, members, kits.For(groupID))
	if err != nil {
		return nil, nil, err
	}
	d, err := a.destination(round, batch{kind: pg.LedgerBrief, group: g}, recipient{email: to, name: name})
	if err != nil {
		return nil, nil, err
	}
	if brief, err = bt.Render(d); err != nil {
		return nil, nil, fmt.Errorf("preview the brief: %w", err)
	}
	if hasEvent {
		at, err := a.announceTemplate(r, g, event, kits.ForMembers(groupID))
		if err != nil {
			return nil, nil, err
		}
		d, err := a.destination(round, batch{kind: pg.LedgerAnnouncement, group: g, event: event}, recipient{email: to, name: name})
		if err != nil {
			return nil, nil, err
		}
		if announcement, err = at.Render(d); err != nil {
			return nil, nil, fmt.Errorf("preview the announcement: %w", err)
		}
	}
	return brief, announcement, nil
}
