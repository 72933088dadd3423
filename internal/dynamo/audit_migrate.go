package dynamo

// Pseudonymising the audit entries written before the store wrote every address as a
// keyed hash, and listing every entry under the people it names: what the operator
// command pseudonymise-audit runs once after upgrading. It changes nothing an entry
// says but its addresses, and is safe to run again.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// AuditMigration is what PseudonymiseAudit read and wrote.
type AuditMigration struct {
	Entries   int  // entries read, in the audit table and the table's AUDIT partition
	Rewritten int  // entries that held an address, written again with keyed hashes
	Pointers  int  // pointers written, listing an entry under a person it names
	More      bool // it stopped at its page limit: there are entries it did not read
}

// auditMigratePage is how many entries PseudonymiseAudit reads a page: the pointers
// they may already have are then read in a few BatchGetItems.
const auditMigratePage = 100

// PseudonymiseAudit rewrites every audit entry that still holds an email address, in
// the audit table and in the table's AUDIT partition, into the form the store writes
// now: each address, in any text attribute, as pg.PseudonymousEntry with the store's
// PersonPseudonym writes it. The entry keeps its keys, its time, its ttl and all else.
// It also writes each entry's missing pointers (audit_pointers.go), with the entry's
// rewrite in one transaction. It reads at most maxPages pages of 100 entries (Queries,
// no Scan); a second run writes nothing. It needs the operator's credentials: no
// function may change an entry.
func (st *Store) PseudonymiseAudit(ctx context.Context, maxPages int) (AuditMigration, error) {
	var r AuditMigration
	if st.PersonPseudonym == nil {
		return r, errors.New("pseudonymise the audit trail: the store has no pseudonym key")
	}
	pages := 0
	for _, trail := range []string{trailAudit, trailTable} {
		table := AuditTableName(st.Table)
		if trail == trailTable {
			table = st.Table
		}
		p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pkAudit)},
			Limit:                     aws.Int32(auditMigratePage),
		})
		for p.HasMorePages() {
			if pages >= maxPages {
				r.More = true
				return r, nil
			}
			pages++
			out, err := p.NextPage(ctx)
			if err != nil {
				return r, unavailable(fmt.Errorf("read the audit entries of %s: %w", table, err))
			}
			if err := st.pseudonymisePage(ctx, table, trail, out.Items, &r); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// pseudonymisePage rewrites a page of entries of table that hold an address, and
// writes the pointers they lack.
func (st *Store) pseudonymisePage(ctx context.Context, table, trail string, entries []map[string]types.AttributeValue, r *AuditMigration) error {
	type change struct {
		entry    map[string]types.AttributeValue // nil: unchanged
		pointers []map[string]types.AttributeValue
	}
	changes := make([]change, len(entries))
	var wanted []map[string]types.AttributeValue
	for i, it := range entries {
		r.Entries++
		entry, changed := st.pseudonymousItem(it)
		if changed {
			changes[i].entry = entry
		}
		changes[i].pointers = auditPointers(entry, trail)
		for _, p := range changes[i].pointers {
			wanted = append(wanted, map[string]types.AttributeValue{attrPK: p[attrPK], attrSK: p[attrSK]})
		}
	}
	existing, err := st.batchGetIn(ctx, AuditTableName(st.Table), wanted)
	if err != nil {
		return err
	}
	have := map[[2]string]bool{}
	for _, it := range existing {
		have[[2]string{it[attrPK].(*types.AttributeValueMemberS).Value, it[attrSK].(*types.AttributeValueMemberS).Value}] = true
	}
	for _, c := range changes {
		var items []types.TransactWriteItem
		if c.entry != nil {
			// Only over the entry as it is: an entry DynamoDB's TTL deleted meanwhile stays gone.
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(table), Item: c.entry, ConditionExpression: aws.String("attribute_exists(pk)"),
			}})
		}
		for _, p := range c.pointers {
			if !have[[2]string{p[attrPK].(*types.AttributeValueMemberS).Value, p[attrSK].(*types.AttributeValueMemberS).Value}] {
				items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(AuditTableName(st.Table)), Item: p}})
			}
		}
		for start := 0; start < len(items); start += maxTransactItems {
			batch := items[start:min(start+maxTransactItems, len(items))]
			rewrite := c.entry != nil && start == 0 // the entry is the batch's first item
			_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: batch})
			if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && rewrite && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
				break // DynamoDB's TTL deleted the entry since it was read: nothing to rewrite or point to
			}
			if err != nil {
				return unavailable(fmt.Errorf("pseudonymise an audit entry of %s: %w", table, err))
			}
			r.Pointers += len(batch)
			if rewrite {
				r.Rewritten++
				r.Pointers--
			}
		}
	}
	return nil
}

// pseudonymousItem returns an entry as stored with every address in its text
// attributes (all but its keys) written as the store writes it now, and whether that
// changed anything.
func (st *Store) pseudonymousItem(it map[string]types.AttributeValue) (map[string]types.AttributeValue, bool) {
	out := make(map[string]types.AttributeValue, len(it))
	changed := false
	for name, v := range it {
		if name == attrPK || name == attrSK {
			out[name] = v
			continue
		}
		nv, c := st.pseudonymousValue(v)
		out[name], changed = nv, changed || c
	}
	return out, changed
}

// pseudonymousValue is pseudonymousItem for one attribute: a string, or the strings
// inside a list, a map or a string set.
func (st *Store) pseudonymousValue(v types.AttributeValue) (types.AttributeValue, bool) {
	hide := func(text string) string {
		// The very function the store writes entries with: each address as
		// pg.MailOutTarget names the person.
		return pg.PseudonymousEntry(pg.AuditEntry{Actor: text}, st.PersonPseudonym).Actor
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if h := hide(v.Value); h != v.Value {
			return s(h), true
		}
	case *types.AttributeValueMemberSS:
		var out []string
		changed := false
		for _, e := range v.Value {
			h := hide(e)
			changed = changed || h != e
			if !slices.Contains(out, h) { // a set holds each string once
				out = append(out, h)
			}
		}
		if changed {
			return &types.AttributeValueMemberSS{Value: out}, true
		}
	case *types.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(v.Value))
		changed := false
		for i, e := range v.Value {
			var c bool
			out[i], c = st.pseudonymousValue(e)
			changed = changed || c
		}
		if changed {
			return &types.AttributeValueMemberL{Value: out}, true
		}
	case *types.AttributeValueMemberM:
		out := make(map[string]types.AttributeValue, len(v.Value))
		changed := false
		for k, e := range v.Value {
			var c bool
			out[k], c = st.pseudonymousValue(e)
			changed = changed || c
		}
		if changed {
			return &types.AttributeValueMemberM{Value: out}, true
		}
	}
	return v, false
}
