package peergroups

// The audit trail and erasure: entries name people by a keyed pseudonym, never by
// their address, so that erasing a person leaves nothing in a trail that is never
// rewritten; the admins' page shows the people they work with by address again.

import (
	"regexp"
	"strings"
	"sync"
)

// emailInText matches what may be an email address written anywhere in a line: enough
// to catch one in a log line or an audit entry, at the price of naming the odd thing
// that only looks like one by a pseudonym.
var emailInText = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*`)
})

// ReplaceAddresses returns s with each email address in it replaced by with(address):
// how the logs and the audit trail keep addresses out of what they write.
func ReplaceAddresses(s string, with func(addr string) string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return emailInText().ReplaceAllStringFunc(s, with)
}

// PseudonymousEntry returns a with every email address in it (the actor, the target,
// the states before and after) replaced by the person's name in the audit trail
// (MailOutTarget): the trail is never rewritten, so an address written into it could
// not be erased; the keyed hash is the one an erased address is remembered by.
func PseudonymousEntry(a AuditEntry, pseudonym func(parts ...string) string) AuditEntry {
	if pseudonym == nil {
		return a
	}
	hide := func(s string) string {
		return ReplaceAddresses(s, func(addr string) string { return MailOutTarget(pseudonym, addr) })
	}
	a.Actor, a.Target, a.Before, a.After = hide(a.Actor), hide(a.Target), hide(a.Before), hide(a.After)
	return a
}

// NamedEntries shows the people an admin works with by their addresses again in
// entries written pseudonymously: each of known (the admins and facilitators) whose
// name in the trail appears in an entry. Everyone else stays a pseudonym.
func NamedEntries(entries []AuditEntry, known []string, pseudonym func(parts ...string) string) []AuditEntry {
	if pseudonym == nil || len(entries) == 0 {
		return entries
	}
	var pairs []string
	for _, email := range known {
		pairs = append(pairs, MailOutTarget(pseudonym, email), NormaliseEmail(email))
	}
	names := strings.NewReplacer(pairs...)
	out := make([]AuditEntry, len(entries))
	for i, a := range entries {
		a.Actor, a.Target, a.Before, a.After = names.Replace(a.Actor), names.Replace(a.Target), names.Replace(a.Before), names.Replace(a.After)
		out[i] = a
	}
	return out
}
