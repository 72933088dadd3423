package dynamo

// Privacy: a person's export and erasure. Everything about a person is found by keys
// built from their address (see keys.go): their partition, their answers and ledger
// rows for each round and group they belonged to, their suppression, and the messages
// they sent us (gsi1). Nothing here scans.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// PrivacyStore is pg.PrivacyStore (privacy.go).
type PrivacyStore struct {
	*Store
	RSVPs RSVPStore
}

// SavePrivacyLink stores a privacy link's nonce hash until it expires, with the email
// that carries the link, in one transaction.
func (st *PrivacyStore) SavePrivacyLink(ctx context.Context, purpose, nonceHash string, expires time.Time, out ...pg.OutboxItem) error {
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(privacyPK(nonceHash)), attrSK: s(purpose), "expiresAt": s(stamp(expires)), attrTTL: n(expires.Unix()),
	}}}}
	items, err := st.withOutbox(items, out)
	if err != nil {
		return err
	}
	return st.transact(ctx, "save privacy link", items, 0)
}

// PrivacyLinkLive reports whether a privacy link is stored and unexpired at now (TTL
// deletion is lazy, so expiry is checked here too).
func (st *PrivacyStore) PrivacyLinkLive(ctx context.Context, purpose, nonceHash string, now time.Time) (bool, error) {
	var it struct {
		ExpiresAt string `dynamodbav:"expiresAt"`
	}
	err := st.get(ctx, privacyPK(nonceHash), purpose, &it)
	if pg.KindOf(err) == pg.KindNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return now.Before(parseStamp(it.ExpiresAt)), nil
}

// UsePrivacyLink deletes a privacy link's nonce hash while it is unexpired at now:
// pg.ErrLinkUsed when it is gone or expired.
func (st *PrivacyStore) UsePrivacyLink(ctx context.Context, purpose, nonceHash string, now time.Time) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       key(privacyPK(nonceHash), purpose),
		ConditionExpression:       aws.String("attribute_exists(pk) AND expiresAt > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": s(stamp(now))},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return pg.ErrLinkUsed
	}
	if err != nil {
		return unavailable(fmt.Errorf("use privacy link: %w", err))
	}
	return nil
}

// found is what was found about a person: the items, by where they came from.
type found struct {
	person, rsvps, deliveries, messages, suppression []map[string]types.AttributeValue
	// signups are what they signed up to outside their partition: a council's contact,
	// someone interested in a proposed group, and the proposals they made (proposed:
	// not deleted but stripped of them).
	signups, proposed []map[string]types.AttributeValue
	// audit are the entries about them (exported, never deleted); outbox the outbox
	// items of the emails the entries say were sent to them: their delivery states.
	audit, outbox []map[string]types.AttributeValue
	// conversations are the items of the conversations they started (with our replies
	// to them), and each message's "seen" item: deleted with them, not exported.
	conversations []map[string]types.AttributeValue
	// authored is what they wrote or did in the kits and the inbox (authored.go): its
	// index items are deleted with them, the items they list kept without their address.
	authored authoredFound
	// logins are their sessions and unused sign-in links (gsi1 LOGIN#<email>): deleted.
	logins []map[string]types.AttributeValue
}

func (f found) all() [][]map[string]types.AttributeValue {
	return [][]map[string]types.AttributeValue{f.person, f.rsvps, f.deliveries, f.messages, f.suppression, f.conversations, f.signups, f.outbox, f.authored.index, f.logins}
}

// find reads everything held about an address, by its keys, and the audit entries
// that name it or its keyed hash.
func (st *PrivacyStore) find(ctx context.Context, email, hash string) (found, error) {
	var f found
	if err := st.findSignups(ctx, email, &f); err != nil {
		return f, err
	}
	if err := st.findAudit(ctx, email, hash, &f); err != nil {
		return f, err
	}
	if err := st.queryPrefix(ctx, personPK(email), "", &f.person); err != nil {
		return f, err
	}
	groups := map[string]bool{}
	for _, it := range f.person {
		if g, ok := it["groupId"].(*types.AttributeValueMemberS); ok && g.Value != "" {
			groups[g.Value] = true
		}
		if sk, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
			if g, ok := strings.CutPrefix(sk.Value, prefixRole+pg.RoleFacilitator+"#"); ok {
				groups[g] = true
			}
		}
	}
	if len(groups) > 0 {
		rounds, err := (&RoundStore{Store: st.Store}).Rounds(ctx)
		if err != nil {
			return f, err
		}
		var answers, rows []map[string]types.AttributeValue
		for _, r := range rounds {
			for g := range groups {
				answers = append(answers, key(attendancePK(r.Number, g), email))
				for _, kind := range []pg.LedgerKind{pg.LedgerBrief, pg.LedgerAnnouncement} {
					rows = append(rows, key(ledgerPK(r.Number), ledgerSK(pg.LedgerID{Kind: kind, Group: g, Email: email})))
				}
				rows = append(rows, key(reminderPK(r.Number), ledgerSK(pg.LedgerID{Kind: pg.LedgerReminder, Group: g, Email: email})))
			}
		}
		if f.rsvps, err = st.batchGet(ctx, answers); err != nil {
			return f, err
		}
		if f.deliveries, err = st.batchGet(ctx, rows); err != nil {
			return f, err
		}
	}
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(senderPK(email))},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return f, unavailable(fmt.Errorf("query messages sent by a person: %w", err))
		}
		f.messages = append(f.messages, page.Items...)
	}
	refs := map[string]bool{}
	var seen []map[string]types.AttributeValue
	for _, it := range f.messages {
		if pk, ok := it[attrPK].(*types.AttributeValueMemberS); ok {
			refs[pk.Value] = true
		}
		if id, ok := it["id"].(*types.AttributeValueMemberS); ok && id.Value != "" {
			seen = append(seen, key(inboundPK(id.Value), skInbound))
		}
	}
	for pk := range refs {
		var items []map[string]types.AttributeValue
		if err := st.queryPrefix(ctx, pk, "", &items); err != nil {
			return f, err
		}
		for _, it := range items {
			if sk, _ := it[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == skConversation {
				if from, _ := it["from"].(*types.AttributeValueMemberS); from != nil && pg.NormaliseEmail(from.Value) == email {
					f.conversations = append(f.conversations, items...)
				}
			}
		}
	}
	var err error
	if f.conversations, err = appendFound(ctx, st, f.conversations, seen); err != nil {
		return f, err
	}
	sup, err := st.batchGet(ctx, []map[string]types.AttributeValue{key(pkSuppressed, email)})
	if err != nil {
		return f, err
	}
	f.suppression = sup
	if f.authored, err = st.findAuthored(ctx, email); err != nil {
		return f, err
	}
	if f.logins, err = st.queryIndex(ctx, loginsPK(email), ""); err != nil {
		return f, err
	}
	return f, nil
}

// findSignups finds their sign-ups kept outside their partition: for each council in
// the register, their contact item; for each proposal, their interest; and the
// proposals they made.
func (st *PrivacyStore) findSignups(ctx context.Context, email string, f *found) error {
	var entries, proposals []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, pkRegister, councilSK(""), &entries); err != nil {
		return err
	}
	if err := st.queryPrefix(ctx, pkProposals, proposalSK(""), &proposals); err != nil {
		return err
	}
	var keys []map[string]types.AttributeValue
	for _, it := range entries {
		if code, _ := it["code"].(*types.AttributeValueMemberS); code != nil {
			keys = append(keys, key(registerContactsPK(code.Value), contactSK(email)))
		}
	}
	for _, it := range proposals {
		if id, _ := it["id"].(*types.AttributeValueMemberS); id != nil {
			keys = append(keys, key(interestedPK(id.Value), interestedSK(email)))
		}
		if by, _ := it["proposerEmail"].(*types.AttributeValueMemberS); by != nil && pg.NormaliseEmail(by.Value) == email {
			f.proposed = append(f.proposed, it)
		}
	}
	var err error
	f.signups, err = st.batchGet(ctx, keys)
	return err
}

// appendFound appends to items those of keys that exist.
func appendFound(ctx context.Context, st *PrivacyStore, items []map[string]types.AttributeValue, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	got, err := st.batchGet(ctx, keys)
	return append(items, got...), err
}

// batchGet reads the items of keys that exist, 100 keys a request.
func (st *PrivacyStore) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := map[string]types.KeysAndAttributes{st.Table: {Keys: keys[start:min(start+100, len(keys))], ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt >= 20 {
				return nil, unavailable(fmt.Errorf("read a person's items: unprocessed keys remain"))
			}
			res, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, unavailable(fmt.Errorf("read a person's items: %w", err))
			}
			out = append(out, res.Responses[st.Table]...)
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// internalAttributes are the table's own attributes, left out of an export.
var internalAttributes = []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK, attrTTL, "nonceHash", "sealed", "run", "claimedAt"}

func exported(items []map[string]types.AttributeValue) ([]map[string]any, error) {
	out := []map[string]any{}
	for _, it := range items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return nil, fmt.Errorf("decode a person's item: %w", err)
		}
		for _, a := range internalAttributes {
			delete(m, a)
		}
		if sk, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
			if kind, _ := kindOf(sk.Value); kind != "" && m["item"] == nil {
				m["item"] = strings.ToLower(kind)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// PersonData reads everything held about an address, and the audit entries about it
// (by the address or its keyed hash).
func (st *PrivacyStore) PersonData(ctx context.Context, email, hash string) (pg.PersonData, error) {
	f, err := st.find(ctx, email, hash)
	if err != nil {
		return pg.PersonData{}, err
	}
	var d pg.PersonData
	for _, part := range []struct {
		to    *[]map[string]any
		items []map[string]types.AttributeValue
	}{
		{&d.Person, f.person}, {&d.RSVPs, f.rsvps}, {&d.Deliveries, f.deliveries}, {&d.Messages, f.messages}, {&d.Suppression, f.suppression},
		{&d.Signups, append(f.signups, f.proposed...)}, {&d.Emails, f.outbox}, {&d.Audit, f.audit},
	} {
		if *part.to, err = exported(part.items); err != nil {
			return d, err
		}
	}
	d.Authored = f.authored.exported()
	return d, nil
}

// messageFiles returns, of the inbound messages among items, the keys of their raw
// messages in the receiving bucket, the keys of their stored attachments, the keys of
// the items that record those attachments' uses, and the messages' SES IDs.
func messageFiles(items [][]map[string]types.AttributeValue) (raw, attachments []string, uses []map[string]types.AttributeValue, ids map[string]bool) {
	ids = map[string]bool{}
	seen := map[string]bool{}
	for _, group := range items {
		for _, it := range group {
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if sk == nil || !strings.HasPrefix(sk.Value, "MSG#") {
				continue
			}
			var msg inboundItem
			if err := attributevalue.UnmarshalMap(it, &msg); err != nil || msg.ID == "" || ids[msg.ID] {
				continue
			}
			ids[msg.ID] = true
			if msg.RawKey != "" && !seen[msg.RawKey] {
				seen[msg.RawKey] = true
				raw = append(raw, msg.RawKey)
			}
			for _, a := range msg.Attachments {
				if a.Key == "" {
					continue
				}
				uses = append(uses, key(attachmentUsePK(a.Key), msg.ID))
				if !seen[a.Key] {
					seen[a.Key] = true
					attachments = append(attachments, a.Key)
				}
			}
		}
	}
	return raw, attachments, uses, ids
}

// unusedFiles returns those of the attachment keys that no message but the ones named
// by erased uses: a file is stored once for every message with the same bytes, so one
// that a kept message also has is kept.
func (st *PrivacyStore) unusedFiles(ctx context.Context, keys []string, erased map[string]bool) ([]string, error) {
	var unused []string
	for _, k := range keys {
		var uses []map[string]types.AttributeValue
		if err := st.queryPrefix(ctx, attachmentUsePK(k), "", &uses); err != nil {
			return nil, err
		}
		kept := false
		for _, u := range uses {
			if id, _ := u[attrSK].(*types.AttributeValueMemberS); id != nil && !erased[id.Value] {
				kept = true
				break
			}
		}
		if !kept {
			unused = append(unused, k)
		}
	}
	return unused, nil
}

// ErasePerson deletes everything held about an address: an answer that held a place
// or a waiting place is first withdrawn (so the place goes to whoever waited longest),
// then the objects of the messages being deleted are handed to files (their raw
// messages, and the attachments no other message uses), while the items still name
// them, then every item found is deleted; last, one transaction puts the address's
// hash on the suppression list with the audit entry.
func (st *PrivacyStore) ErasePerson(ctx context.Context, email, hash string, at time.Time, a pg.AuditEntry, files func(ctx context.Context, keys []string) error) error {
	f, err := st.find(ctx, email, hash)
	if err != nil {
		return err
	}
	raw, attachments, uses, ids := messageFiles(f.all())
	f.conversations = append(f.conversations, uses...)
	if files != nil && len(raw)+len(attachments) > 0 {
		unused, err := st.unusedFiles(ctx, attachments, ids)
		if err != nil {
			return err
		}
		if err := files(ctx, append(raw, unused...)); err != nil {
			return fmt.Errorf("delete the stored messages: %w", err)
		}
	}
	for _, it := range f.rsvps {
		var ans attendanceItem
		if err := attributevalue.UnmarshalMap(it, &ans); err != nil {
			return fmt.Errorf("decode an answer: %w", err)
		}
		if ans.Status != pg.Going && ans.Status != pg.Waiting {
			continue
		}
		pk := it[attrPK].(*types.AttributeValueMemberS).Value
		var round int
		var group string
		if _, err := fmt.Sscanf(strings.ReplaceAll(pk, "#", " "), "ATTEND %d %s", &round, &group); err != nil {
			return fmt.Errorf("read answer key %s: %w", pk, err)
		}
		if err := st.RSVPs.Withdraw(ctx, pg.Attendance{Round: round, Group: group, Email: email, Name: ans.Name, Since: at}, true); err != nil {
			return fmt.Errorf("withdraw an answer: %w", err)
		}
	}
	// What they wrote or did stays, by "a former facilitator" (or admin), before the
	// index items that list it are deleted below.
	if err := st.replaceAuthor(ctx, f.authored, email, formerOf(f.person)); err != nil {
		return err
	}
	if err := st.forgetActor(ctx, email); err != nil {
		return err
	}
	var reqs []types.WriteRequest
	deleting := map[[2]string]bool{} // a batch may not name one key twice
	for _, items := range f.all() {
		for _, it := range items {
			pk, _ := it[attrPK].(*types.AttributeValueMemberS)
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil || deleting[[2]string{pk.Value, sk.Value}] {
				continue
			}
			deleting[[2]string{pk.Value, sk.Value}] = true
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{attrPK: it[attrPK], attrSK: it[attrSK]}}})
		}
	}
	for start := 0; start < len(reqs); start += 25 {
		batch := reqs[start:min(start+25, len(reqs))]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt >= 20 {
				return unavailable(fmt.Errorf("erase a person: unprocessed deletes remain"))
			}
			out, err := st.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Table: batch}})
			if err != nil {
				return unavailable(fmt.Errorf("erase a person: %w", err))
			}
			batch = out.UnprocessedItems[st.Table]
		}
	}
	if err := st.forgetSignups(ctx, f); err != nil {
		return err
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	return st.transact(ctx, "suppress an erased address", []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(pkSuppressed), attrSK: s(erasedSK(hash)), "reason": s("erased"), "at": s(stamp(at)),
		}}},
		audit,
	}, 0)
}

// forgetSignups updates what their deleted sign-ups were counted in or named in: each
// proposal they were interested in counts one fewer, and each they made no longer
// names its proposer (its area and reasons stay, for the people interested in it).
func (st *PrivacyStore) forgetSignups(ctx context.Context, f found) error {
	for _, it := range f.signups {
		id, _ := it["proposalId"].(*types.AttributeValueMemberS)
		if id == nil {
			continue // a council's contact: deleted, nothing counts it
		}
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: key(pkProposals, proposalSK(id.Value)),
			UpdateExpression:          aws.String("ADD interested :less"),
			ConditionExpression:       aws.String("interested > :none"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":less": n(-1), ":none": n(0)},
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ok {
			return unavailable(fmt.Errorf("count an erased person's interest out of proposal %s: %w", id.Value, err))
		}
	}
	for _, it := range f.proposed {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: map[string]types.AttributeValue{attrPK: it[attrPK], attrSK: it[attrSK]},
			UpdateExpression: aws.String("REMOVE proposerEmail, proposerName"),
		})
		if err != nil {
			return unavailable(fmt.Errorf("take an erased person off the proposal they made: %w", err))
		}
	}
	return nil
}

// Erased reports whether an address's hash is on the suppression list as erased.
func (st *PrivacyStore) Erased(ctx context.Context, hash string) (bool, error) {
	var it map[string]any
	err := st.get(ctx, pkSuppressed, erasedSK(hash), &it)
	if pg.KindOf(err) == pg.KindNotFound {
		return false, nil
	}
	return err == nil, err
}
