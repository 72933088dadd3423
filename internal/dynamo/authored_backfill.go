package dynamo

// A one-off backfill for items written before what a person wrote or did was listed
// under their address (authored.go), and before sessions and sign-in links were
// listed in gsi1 (LOGIN#<address>): without it, an erasure would not find them. It
// Scans the table once (an operator's command, never a request: the store itself
// cannot Scan, so the command hands it the client's Scan), and writes only what is
// missing, each write conditioned on its absence: run again, it writes nothing.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// ScanFunc is DynamoDB's Scan (the client's method value).
type ScanFunc func(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)

// Scan makes a ScanFunc the paginator's client.
func (f ScanFunc) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return f(ctx, in, opts...)
}

// AuthorsBackfill says what BackfillAuthors did.
type AuthorsBackfill struct {
	Scanned int  // items read
	Listed  int  // index items written under an author's address
	Logins  int  // sessions and sign-in links listed under their address
	More    bool // it stopped at its limit: run it again with a higher one
	// Erased is how many of the authors found were erased before their items were
	// listed (their hash is on the suppression list): their address was replaced in
	// what they wrote or did, as an erasure does now, and their index items deleted.
	Erased int
}

// BackfillAuthors reads at most limit items of the table and writes, for each that
// names an author by address without its index item, the index item; and lists the
// sessions and sign-in links that are not listed yet.
//
// An author erased before this index existed kept their address in what they wrote
// or did (the erasure of the time did not look there). When the store has the
// pseudonym key (PersonPseudonym), each author found is looked up on the suppression
// list by the keyed hash an erasure leaves, and for one found there the backfill does
// what an erasure now does with their items: "a former facilitator" in place of the
// address, the roles they gave and a group's contact forgotten, the index items gone.
func (st *PrivacyStore) BackfillAuthors(ctx context.Context, scan ScanFunc, limit int) (AuthorsBackfill, error) {
	var r AuthorsBackfill
	authors := map[string]bool{}
	p := dynamodb.NewScanPaginator(scan, &dynamodb.ScanInput{TableName: aws.String(st.Table)})
	for pages := 0; p.HasMorePages(); pages++ {
		if r.Scanned >= limit || pages >= limit {
			r.More = true
			break
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return r, unavailable(fmt.Errorf("scan the table: %w", err))
		}
		for _, item := range page.Items {
			if r.Scanned >= limit {
				r.More = true
				break
			}
			r.Scanned++
			if err := st.backfillItem(ctx, item, &r, authors); err != nil {
				return r, err
			}
		}
	}
	if st.PersonPseudonym == nil {
		return r, nil
	}
	for _, who := range slices.Sorted(maps.Keys(authors)) {
		erased, err := st.Erased(ctx, pg.ErasedHash(st.PersonPseudonym, who))
		if err != nil {
			return r, err
		}
		if !erased {
			continue
		}
		if err := st.forgetErasedAuthor(ctx, who); err != nil {
			return r, err
		}
		r.Erased++
	}
	return r, nil
}

// forgetErasedAuthor does for an address erased before its items were listed what an
// erasure does now with what they wrote or did (ErasePerson).
func (st *PrivacyStore) forgetErasedAuthor(ctx context.Context, email string) error {
	f, err := st.findAuthored(ctx, email)
	if err != nil {
		return err
	}
	if err := st.replaceAuthor(ctx, f, email, pg.FormerFacilitator); err != nil {
		return err
	}
	if err := st.forgetActor(ctx, email); err != nil {
		return err
	}
	for _, it := range f.index {
		if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(st.Table), Key: map[string]types.AttributeValue{attrPK: it[attrPK], attrSK: it[attrSK]},
		}); err != nil {
			return unavailable(fmt.Errorf("delete an erased author's index item: %w", err))
		}
	}
	return nil
}

// authorsOf returns the index entries an item calls for, by the address each names.
func (st *PrivacyStore) authorsOf(ctx context.Context, item map[string]types.AttributeValue) (map[string]authored, error) {
	pk, sk := str(item, attrPK), str(item, attrSK)
	out := map[string]authored{}
	add := func(field string, a authored) {
		if who := str(item, field); strings.Contains(who, "@") {
			a.PK, a.SK, a.Field = pk, sk, field
			out[who+"\x00"+field] = a
		}
	}
	round, kit := roundOfKitPK(pk)
	switch {
	case strings.HasPrefix(pk, "KIT#") && strings.HasPrefix(sk, prefixKitRevision):
		add("author", authored{What: pg.AuthoredKitRevision, Round: round, Kit: kit})
	case strings.HasPrefix(pk, "KIT#") && strings.HasPrefix(sk, prefixKitSuggestion):
		add("by", authored{What: pg.AuthoredSuggestion, Round: round, Kit: str(item, "group")})
		add("decidedBy", authored{What: pg.AuthoredDecision, Round: round, Kit: str(item, "group")})
	case strings.HasPrefix(pk, "KIT#") && sk == skKitMerge:
		add("startedBy", authored{What: pg.AuthoredKitMerge, Round: round, Kit: kit})
	case strings.HasPrefix(pk, "KITS#") && strings.HasPrefix(sk, prefixKitLineage):
		add("copiedBy", authored{What: pg.AuthoredKitCopy, Round: round, Kit: str(item, "kit")})
	case strings.HasPrefix(pk, "CONV#") && strings.HasPrefix(sk, "MSG#") && strings.Contains(str(item, "by"), "@"):
		ref := strings.TrimPrefix(pk, "CONV#")
		var conv struct {
			Group string `dynamodbav:"group"`
		}
		if err := st.get(ctx, pk, skConversation, &conv); err != nil && pg.KindOf(err) != pg.KindNotFound {
			return nil, err
		}
		add("by", authored{What: pg.AuthoredReply, Blank: []string{"from", "fromName"}, Group: conv.Group, Ref: ref})
	}
	return out, nil
}

func (st *PrivacyStore) backfillItem(ctx context.Context, item map[string]types.AttributeValue, r *AuthorsBackfill, seen map[string]bool) error {
	pk, sk := str(item, attrPK), str(item, attrSK)
	if (strings.HasPrefix(pk, "SESSION#") && sk == skSession || strings.HasPrefix(pk, "SIGNIN#") && sk == skSignIn) && str(item, attrGSI1PK) == "" {
		_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(st.Table), Key: key(pk, sk),
			UpdateExpression:          aws.String("SET gsi1pk = :pk, gsi1sk = :sk"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(gsi1pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(loginsPK(str(item, "email"))), ":sk": s(pk)},
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			return nil
		}
		if err != nil {
			return unavailable(fmt.Errorf("list %s under its address: %w", pk, err))
		}
		r.Logins++
		return nil
	}
	authors, err := st.authorsOf(ctx, item)
	if err != nil {
		return err
	}
	for k, a := range authors {
		who, _, _ := strings.Cut(k, "\x00")
		seen[pg.NormaliseEmail(who)] = true
		at := parseStamp(str(item, "at"))
		index, err := st.authoredItem(who, a, at)
		if err != nil {
			return err
		}
		if at.IsZero() {
			delete(index, "at")
		}
		_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(st.Table), Item: index, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			continue
		}
		if err != nil {
			return unavailable(fmt.Errorf("list %s %s under its author: %w", pk, sk, err))
		}
		r.Listed++
	}
	return nil
}

// str returns an item's string attribute ("" when it has none).
func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
