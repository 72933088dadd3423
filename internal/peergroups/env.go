package peergroups

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// Env is what every capability's service is built with: the sealer of the links in
// its emails, where those links point, and the one clock it tells the time by.
type Env struct {
	Links   *links.Sealer
	BaseURL string // where links in emails point, without a trailing slash
	Now     func() time.Time
}

// link returns the address of a page with a link token.
func (e Env) link(path, token string) string {
	return e.BaseURL + path + "?token=" + url.QueryEscape(token)
}

// emailData fills what every email carries: the manage link.
func (e Env) emailData(email, name string, groups []Group) (emailData, error) {
	manage, err := e.Links.Seal(links.Claims{Purpose: links.Manage, Email: email}, ManageLinkTTL)
	if err != nil {
		return emailData{}, err
	}
	return emailData{Name: name, Groups: groups, ManageLink: e.link("/manage", manage)}, nil
}

// mail renders a template into an outbox item addressed to one person.
func (e Env) mail(to, subject, template string, data emailData, headers ...Header) (OutboxItem, error) {
	msg, err := render(to, subject, template, data)
	if err != nil {
		return OutboxItem{}, err
	}
	msg.Headers = headers
	return OutboxItem{ID: newOutboxID(), At: e.Now(), Message: &msg}, nil
}

// audit returns the audit entry of a change made by c.
func (e Env) audit(c Caller, action, target string, before, after any) AuditEntry {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return AuditEntry{At: e.Now(), Actor: c.Email, Action: action, Target: target, Before: enc(before), After: enc(after)}
}
