package announce

import (
	"context"
	"fmt"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// auditBatch records a settled batch in the audit trail: one entry for the batch (one
// email of one group, up to Batch recipients), with its counts, not one per recipient
// (the ledger has each recipient's row and SES message ID). A batch handed back
// unsent is not recorded; nor, again, is a settle that was retried, which the caller
// reaches once. The emails are out whatever the audit trail says: an entry that cannot
// be written is logged.
func (a *Announcer) auditBatch(ctx context.Context, round int, settle string, rows []pg.LedgerRow, at time.Time) {
	counts := map[pg.LedgerState]int{}
	for _, r := range rows {
		counts[r.State]++
	}
	if counts[pg.LedgerSent]+counts[pg.LedgerFailed]+counts[pg.LedgerSuppressed] == 0 {
		return
	}
	first := rows[0]
	action := map[pg.LedgerKind]string{pg.LedgerBrief: "send round briefs", pg.LedgerAnnouncement: "send announcements"}[first.Kind]
	if action == "" {
		action = "send " + string(first.Kind)
	}
	entry := pg.MailOutEntry(at, action, fmt.Sprintf("%d %s", round, first.Group), map[string]any{
		"kind": first.Kind, "group": first.Group, "settle": settle,
		"sent": counts[pg.LedgerSent], "failed": counts[pg.LedgerFailed], "suppressed": counts[pg.LedgerSuppressed], "deferred": counts[pg.LedgerDeferred],
	})
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.Store.AppendAudit(actx, entry); err != nil {
		a.Log.WarnContext(ctx, "the audit entry of a batch sent was not written", "round", round, "settle", settle, "error", err)
	}
}
