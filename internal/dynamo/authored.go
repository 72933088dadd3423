package dynamo

// What facilitators and admins wrote or did, in items that belong to a round's kit or
// to a conversation (kit revisions and their kit's head, suggestions, variants'
// lineages, merges in progress, replies), names them by address. Each such item is
// listed under that address by an index item, written in the same transaction as the
// item: pk AUTHOR#<address>, sk <the item's pk>#<its sk>#<the attribute>. A person's
// export reads their index items (one Query), and their erasure replaces the address
// in each item listed by pg.FormerFacilitator or pg.FormerAdmin, then deletes the index
// items: nothing scans. Items written before the index are listed by BackfillAuthors.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// authorPK is the partition listing what an address wrote or did.
func authorPK(email string) string { return "AUTHOR#" + pg.NormaliseEmail(email) }

// authoredSK is an index item's sort key: the item's keys and the attribute that holds
// the address.
func authoredSK(pk, sk, attr string) string { return pk + "#" + sk + "#" + attr }

// authored is one thing a person wrote or did, as its index item describes it.
type authored struct {
	PK    string   `dynamodbav:"itemPk"`
	SK    string   `dynamodbav:"itemSk"`
	Field string   `dynamodbav:"field"`           // the attribute holding their address
	Blank []string `dynamodbav:"blank,omitempty"` // attributes emptied with it (a reply's sender and name)
	What  string   `dynamodbav:"what"`            // one of pg.Authored*
	Round int      `dynamodbav:"round,omitempty"`
	Kit   string   `dynamodbav:"kit,omitempty"`   // the kit ("core", or a group's variant); a suggestion's group
	Group string   `dynamodbav:"group,omitempty"` // a reply's conversation's group
	Ref   string   `dynamodbav:"ref,omitempty"`   // a reply's conversation
	At    string   `dynamodbav:"at"`
}

// authoredPut returns the Put of the index item that lists a.PK/a.SK under who, for
// the transaction that writes the item; none when who is not an address (the service
// itself acting).
func (st *Store) authoredPut(who string, a authored, at time.Time) []types.TransactWriteItem {
	if !strings.Contains(who, "@") || a.PK == "" {
		return nil
	}
	item, err := st.authoredItem(who, a, at)
	if err != nil {
		return nil
	}
	return []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(st.Table), Item: item}}}
}

func (st *Store) authoredItem(who string, a authored, at time.Time) (map[string]types.AttributeValue, error) {
	a.At = stamp(at)
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return nil, fmt.Errorf("encode authored index item: %w", err)
	}
	item[attrPK], item[attrSK] = s(authorPK(who)), s(authoredSK(a.PK, a.SK, a.Field))
	return item, nil
}

// kitRevisionAuthored is the index entry of a kit revision's author.
func kitRevisionAuthored(round int, kit string, number int) authored {
	return authored{PK: kitPK(round, kit), SK: kitRevisionSK(number), Field: "author", What: pg.AuthoredKitRevision, Round: round, Kit: kit}
}

// roundOfKitPK reads the round of a kit's (KIT#<nnnn>#<kit>) or a round's variants'
// (KITS#<nnnn>) partition.
func roundOfKitPK(pk string) (round int, kit string) {
	rest, ok := strings.CutPrefix(pk, "KIT#")
	if !ok {
		rest, _ = strings.CutPrefix(pk, "KITS#")
	}
	num, kit, _ := strings.Cut(rest, "#")
	fmt.Sscanf(num, "%d", &round)
	return round, kit
}

// authoredFound is what an address is listed under: the index items, and the items
// they list (and the heads of the kits whose revisions they list), by key.
type authoredFound struct {
	index []map[string]types.AttributeValue
	items map[[2]string]map[string]types.AttributeValue
}

// findAuthored reads an address's index items and the items they list.
func (st *PrivacyStore) findAuthored(ctx context.Context, email string) (authoredFound, error) {
	f := authoredFound{items: map[[2]string]map[string]types.AttributeValue{}}
	if err := st.queryPrefix(ctx, authorPK(email), "", &f.index); err != nil {
		return f, err
	}
	var keys []map[string]types.AttributeValue
	seen := map[[2]string]bool{}
	add := func(pk, sk string) {
		if !seen[[2]string{pk, sk}] {
			seen[[2]string{pk, sk}] = true
			keys = append(keys, key(pk, sk))
		}
	}
	for _, it := range f.index {
		var a authored
		if err := attributevalue.UnmarshalMap(it, &a); err != nil {
			return f, fmt.Errorf("decode authored index item: %w", err)
		}
		add(a.PK, a.SK)
		if strings.HasPrefix(a.SK, prefixKitRevision) {
			add(a.PK, skKitHead) // the head repeats its revision's author
		}
	}
	items, err := st.batchGet(ctx, keys)
	if err != nil {
		return f, err
	}
	for _, it := range items {
		pk, _ := it[attrPK].(*types.AttributeValueMemberS)
		sk, _ := it[attrSK].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			f.items[[2]string{pk.Value, sk.Value}] = it
		}
	}
	return f, nil
}

// exportedAuthored is what a person's export says of each thing they wrote or did:
// what it was, where (round, kit or group, conversation), when, and of the item as it
// is now its number, note, title and status (not its text, which may quote others).
func (f authoredFound) exported() []map[string]any {
	out := []map[string]any{}
	for _, it := range f.index {
		var a authored
		if attributevalue.UnmarshalMap(it, &a) != nil {
			continue
		}
		m := map[string]any{"what": a.What, "at": a.At}
		if a.Round > 0 {
			m["round"] = a.Round
		}
		for k, v := range map[string]string{"kit": a.Kit, "group": a.Group, "ref": a.Ref} {
			if v != "" {
				m[k] = v
			}
		}
		if item, ok := f.items[[2]string{a.PK, a.SK}]; ok {
			var facts map[string]any
			if attributevalue.UnmarshalMap(item, &facts) == nil {
				for _, k := range []string{"number", "note", "title", "status"} {
					if v, ok := facts[k]; ok && v != "" {
						m[k] = v
					}
				}
			}
		} else {
			m["gone"] = true // finished or deleted since (a merge in progress, say)
		}
		out = append(out, m)
	}
	return out
}

// replaceAuthor replaces the address in each item an address is listed under by
// former (and empties what goes with it), each update conditioned on the attribute
// still holding the address as read; the kits' heads too. The index items are
// deleted afterwards, with the person's other items.
func (st *PrivacyStore) replaceAuthor(ctx context.Context, f authoredFound, email, former string) error {
	type change struct {
		set   map[string]string // attribute → the address it holds now
		blank []string
	}
	changes := map[[2]string]*change{}
	var order [][2]string
	mark := func(k [2]string, field string, blank []string) {
		item, ok := f.items[k]
		if !ok {
			return // gone since (a merge finished, a head moved on)
		}
		v, _ := item[field].(*types.AttributeValueMemberS)
		if v == nil || pg.NormaliseEmail(v.Value) != pg.NormaliseEmail(email) {
			return
		}
		c := changes[k]
		if c == nil {
			c = &change{set: map[string]string{}}
			changes[k] = c
			order = append(order, k)
		}
		c.set[field] = v.Value
		for _, b := range blank {
			if !slices.Contains(c.blank, b) {
				c.blank = append(c.blank, b)
			}
		}
	}
	for _, it := range f.index {
		var a authored
		if err := attributevalue.UnmarshalMap(it, &a); err != nil {
			return fmt.Errorf("decode authored index item: %w", err)
		}
		mark([2]string{a.PK, a.SK}, a.Field, a.Blank)
		if strings.HasPrefix(a.SK, prefixKitRevision) {
			mark([2]string{a.PK, skKitHead}, "author", nil)
		}
	}
	for _, k := range order {
		c := changes[k]
		names := map[string]string{}
		values := map[string]types.AttributeValue{":former": s(former)}
		var sets, conds []string
		i := 0
		for field, was := range c.set {
			n := fmt.Sprintf("%d", i)
			names["#f"+n], values[":was"+n] = field, s(was)
			sets = append(sets, "#f"+n+" = :former")
			conds = append(conds, "#f"+n+" = :was"+n)
			i++
		}
		for j, field := range c.blank {
			if _, set := c.set[field]; set {
				continue
			}
			n := fmt.Sprintf("b%d", j)
			names["#"+n], values[":empty"] = field, s("")
			sets = append(sets, "#"+n+" = :empty")
		}
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: key(k[0], k[1]),
			UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
			ConditionExpression:       aws.String(strings.Join(conds, " AND ")),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			continue // changed meanwhile: it no longer holds their address
		}
		if err != nil {
			return unavailable(fmt.Errorf("replace an erased author in %s %s: %w", k[0], k[1], err))
		}
	}
	return nil
}

// formerOf is what an erased person is called where their address was: an admin if
// their partition holds the admin role, otherwise a facilitator.
func formerOf(person []map[string]types.AttributeValue) string {
	for _, it := range person {
		if sk, _ := it[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == roleSK(pg.RoleAdmin, "") {
			return pg.FormerAdmin
		}
	}
	return pg.FormerFacilitator
}

// forgetActor replaces the address where a person acted on others' roles and groups,
// which are few and listed by key: the facilitators and admins they appointed (each
// role's "by"), and a group whose contact address it was (removed; the group's version
// moves, so that an edit form read before does not put it back).
func (st *PrivacyStore) forgetActor(ctx context.Context, email string) error {
	var groups []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, pkGroups, prefixGroup, &groups); err != nil {
		return err
	}
	roles, err := st.queryIndex(ctx, prefixRole+pg.RoleAdmin, "")
	if err != nil {
		return err
	}
	for _, g := range groups {
		id, _ := g["id"].(*types.AttributeValueMemberS)
		if id == nil {
			continue
		}
		facs, err := st.queryIndex(ctx, groupMembersPK(id.Value), pg.RoleFacilitator+"#")
		if err != nil {
			return err
		}
		roles = append(roles, facs...)
		if c, _ := g["contact"].(*types.AttributeValueMemberS); c != nil && pg.NormaliseEmail(c.Value) == email {
			_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(st.Table), Key: key(pkGroups, groupSK(id.Value)),
				UpdateExpression:          aws.String("REMOVE contact ADD version :one"),
				ConditionExpression:       aws.String("contact = :was"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":was": c},
			})
			if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ok {
				return unavailable(fmt.Errorf("remove an erased contact from group %s: %w", id.Value, err))
			}
		}
	}
	for _, r := range roles {
		by, _ := r["by"].(*types.AttributeValueMemberS)
		if by == nil || pg.NormaliseEmail(by.Value) != email {
			continue
		}
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: map[string]types.AttributeValue{attrPK: r[attrPK], attrSK: r[attrSK]},
			UpdateExpression:          aws.String("SET #by = :former"),
			ConditionExpression:       aws.String("#by = :was"),
			ExpressionAttributeNames:  map[string]string{"#by": "by"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":former": s(pg.FormerAdmin), ":was": by},
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ok {
			return unavailable(fmt.Errorf("replace an erased admin on a role they gave: %w", err))
		}
	}
	return nil
}

// queryIndex reads the items of a gsi1 partition whose gsi1sk starts with prefix.
func (st *Store) queryIndex(ctx context.Context, pk, prefix string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":prefix": s(prefix)},
	}
	if prefix == "" {
		in.KeyConditionExpression = aws.String("gsi1pk = :pk")
		delete(in.ExpressionAttributeValues, ":prefix")
	}
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(st.db.Query, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query gsi1 %s %s: %w", pk, prefix, err))
		}
		out = append(out, page.Items...)
	}
	return out, nil
}
