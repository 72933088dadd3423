package dynamo

// The audit trail by person: with every entry the store writes a pointer for each
// person the entry names (pg.PeopleNamed), AUDITOF#<keyed hash> / <entry's sk>, in the
// same transaction and the same audit table (a Put, which is all the functions may do
// there). A person's export or erasure Queries their pointers and reads the entries
// they point to, never the whole trail. The pointers hold no more than the keyed hash,
// where the entry is, and the entry's ttl, so they go when it goes.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Where the entry a pointer points to is: the audit table, or (written before it
// existed) the table's AUDIT partition. A pointer's "trail" attribute says which.
const (
	trailAudit = "audit"
	trailTable = "table"
)

// maxTransactItems is the most items DynamoDB takes in one TransactWriteItems.
const maxTransactItems = 100

// auditPointers returns the pointers to an audit entry (an item as stored, in trail):
// one for each person it names, in any of its text attributes.
func auditPointers(entry map[string]types.AttributeValue, trail string) []map[string]types.AttributeValue {
	sk, _ := entry[attrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return nil
	}
	var texts []string
	for name, v := range entry {
		if name != attrPK && name != attrSK {
			texts = appendTexts(texts, v)
		}
	}
	slices.Sort(texts) // the same entry gives the same pointers in the same order
	var out []map[string]types.AttributeValue
	for _, hash := range pg.PeopleNamed(texts...) {
		p := map[string]types.AttributeValue{attrPK: s(auditOfPK(hash)), attrSK: s(sk.Value), "trail": s(trail)}
		if ttl, ok := entry[attrTTL]; ok {
			p[attrTTL] = ttl
		}
		out = append(out, p)
	}
	return out
}

// appendTexts appends the strings in v (a string, or strings inside a list, map or
// string set) to texts.
func appendTexts(texts []string, v types.AttributeValue) []string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return append(texts, v.Value)
	case *types.AttributeValueMemberSS:
		return append(texts, v.Value...)
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			texts = appendTexts(texts, e)
		}
	case *types.AttributeValueMemberM:
		for _, e := range v.Value {
			texts = appendTexts(texts, e)
		}
	}
	return texts
}

// withAuditPointers returns items with the Puts of the pointers to the audit entries
// among them (auditPut's) added at the end, so that the positions of the items a
// caller reads cancellation reasons by stay the same; and the pointers that did not
// fit in one transaction, for putAuditPointers to write after it.
func (st *Store) withAuditPointers(items []types.TransactWriteItem) ([]types.TransactWriteItem, []map[string]types.AttributeValue) {
	audit := AuditTableName(st.Table)
	var pointers []map[string]types.AttributeValue
	for _, it := range items {
		if it.Put == nil || aws.ToString(it.Put.TableName) != audit {
			continue
		}
		if pk, _ := it.Put.Item[attrPK].(*types.AttributeValueMemberS); pk != nil && pk.Value == pkAudit {
			pointers = append(pointers, auditPointers(it.Put.Item, trailAudit)...)
		}
	}
	if len(pointers) == 0 {
		return items, nil
	}
	out := slices.Clip(items)
	for len(pointers) > 0 && len(out) < maxTransactItems {
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(audit), Item: pointers[0]}})
		pointers = pointers[1:]
	}
	return out, pointers
}

// putAuditPointers writes pointers to entries already written, one PutItem each: those
// of an entry naming more people than its transaction had room for.
func (st *Store) putAuditPointers(ctx context.Context, pointers []map[string]types.AttributeValue) error {
	for _, p := range pointers {
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(AuditTableName(st.Table)), Item: p}); err != nil {
			return unavailable(fmt.Errorf("list an audit entry under a person it names: %w", err))
		}
	}
	return nil
}

// maxAuditPages bounds the reading of the pointers to one person's entries (1 MB a
// page, some ten thousand pointers).
const maxAuditPages = 100

// findAudit finds the audit entries that name a person by their keyed hash (as actor,
// target, or in what changed): a Query of their pointers (AUDITOF#<hash>), then
// BatchGetItem of the entries, in the audit table and, for entries written before it
// existed, in the table. Entries hold no address (the store writes every address as
// its keyed hash, and make pseudonymise-audit rewrote those written before), so the
// address (find's email, its second argument) is not looked for. Of the emails the entries say were sent to them, it reads the
// outbox items: their delivery states.
func (st *PrivacyStore) findAudit(ctx context.Context, _, hash string, f *found) error {
	keys := map[string][]map[string]types.AttributeValue{}
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName:                 aws.String(AuditTableName(st.Table)),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(auditOfPK(hash))},
		ConsistentRead:            aws.Bool(true),
	})
	for page := 0; p.HasMorePages(); page++ {
		if page >= maxAuditPages {
			return unavailable(fmt.Errorf("read the audit trail of a person: more than %d pages of entries", maxAuditPages))
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("read the audit trail of a person: %w", err))
		}
		for _, it := range out.Items {
			trail, _ := it["trail"].(*types.AttributeValueMemberS)
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if trail == nil || sk == nil {
				continue
			}
			table := AuditTableName(st.Table)
			if trail.Value == trailTable {
				table = st.Table
			}
			keys[table] = append(keys[table], key(pkAudit, sk.Value))
		}
	}
	for _, table := range []string{AuditTableName(st.Table), st.Table} {
		entries, err := st.batchGetIn(ctx, table, keys[table])
		if err != nil {
			return err
		}
		slices.SortFunc(entries, func(a, b map[string]types.AttributeValue) int {
			return cmp.Compare(a[attrSK].(*types.AttributeValueMemberS).Value, b[attrSK].(*types.AttributeValueMemberS).Value)
		})
		f.audit = append(f.audit, entries...)
	}
	var outbox []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, it := range f.audit {
		after, _ := it["after"].(*types.AttributeValueMemberS)
		actor, _ := it["actor"].(*types.AttributeValueMemberS)
		if after == nil || actor == nil || actor.Value != pg.MailOutActor {
			continue
		}
		var sent struct {
			Outbox string `json:"outbox"`
		}
		if json.Unmarshal([]byte(after.Value), &sent) == nil && sent.Outbox != "" && !seen[sent.Outbox] {
			seen[sent.Outbox] = true
			outbox = append(outbox, key(outboxPK(sent.Outbox), OutboxSK))
		}
	}
	var err error
	f.outbox, err = st.batchGet(ctx, outbox)
	return err
}

// batchGetIn reads the items of keys in table that exist, 100 keys a request.
func (st *Store) batchGetIn(ctx context.Context, table string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := map[string]types.KeysAndAttributes{table: {Keys: keys[start:min(start+100, len(keys))], ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt >= 20 {
				return nil, unavailable(fmt.Errorf("read items of %s: unprocessed keys remain", table))
			}
			res, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, unavailable(fmt.Errorf("read items of %s: %w", table, err))
			}
			out = append(out, res.Responses[table]...)
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}
