package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// appendAudit writes an audit entry on its own: one conditional PutItem into the audit
// table (mail out records what it sent after the send is settled), or, when it names
// people (an email's recipient), one transaction with its pointers (audit_pointers.go).
func (st *Store) appendAudit(ctx context.Context, a pg.AuditEntry) error {
	w, err := st.auditPut(a)
	if err != nil {
		return err
	}
	if withPointers, _ := st.withAuditPointers([]types.TransactWriteItem{w}); len(withPointers) > 1 {
		return st.transact(ctx, fmt.Sprintf("append audit entry %s %s", a.Action, a.Target), []types.TransactWriteItem{w}, 0)
	}
	p := w.Put
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression}); err != nil {
		return unavailable(fmt.Errorf("append audit entry %s %s: %w", a.Action, a.Target, err))
	}
	return nil
}

// AppendAudit records email the outbox sent (pg.AuditLog).
func (st *OutboxStore) AppendAudit(ctx context.Context, a pg.AuditEntry) error {
	return st.appendAudit(ctx, a)
}

// AppendAudit records a batch of announcements or a reminder sent (pg.AuditLog).
func (st *LedgerStore) AppendAudit(ctx context.Context, a pg.AuditEntry) error {
	return st.appendAudit(ctx, a)
}
