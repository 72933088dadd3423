// Mail out in the audit trail: every email the service sends is recorded once, by
// whoever sends it (the outbox, the announcements, the reminders), after the send is
// settled, so that an email tried again is recorded once, when it is done. The
// announcements, sent in bulk, record one entry for each batch (up to 50 recipients of
// one email of one group), not one for each recipient: each recipient's line, with the
// message ID SES gave, is in the round's ledger.

package peergroups

import (
	"context"
	"encoding/json"
	"time"
)

// MailOutActor is who the audit trail says sent an email: the service itself.
const MailOutActor = "mail-out"

// AuditLog appends entries to the audit trail on their own (not in the transaction of
// a change): what sends mail records what it sent.
type AuditLog interface {
	AppendAudit(ctx context.Context, a AuditEntry) error
}

// MailOutEntry is the audit entry of email sent: action ("send email", "send
// announcements", ...), target (the recipient, or the round and group of a batch), and
// what else is worth keeping (its kind, its reference). Never the email itself.
func MailOutEntry(at time.Time, action, target string, after map[string]any) AuditEntry {
	b, _ := json.Marshal(after)
	return AuditEntry{At: at, Actor: MailOutActor, Action: action, Target: target, After: string(b)}
}

// MailOutTarget is how the audit trail names an email's recipient: by the keyed hash
// an erased address is known by (ErasedHash), never by the address, since the trail
// cannot be rewritten and erasing a person must leave nothing in it that names them.
// With no pseudonym function the recipient is not named at all.
func MailOutTarget(pseudonym func(parts ...string) string, email string) string {
	if pseudonym == nil {
		return "person (not named)"
	}
	return "person " + ErasedHash(pseudonym, email)
}
