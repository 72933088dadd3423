package dynamo

// Membership: what is stored about a person (profile, sign-up, memberships, roles,
// interests, all in their partition), joining, confirming and leaving groups.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The items of a person's partition, as stored.
type (
	profileItem struct {
		Email        string `dynamodbav:"email"`
		Name         string `dynamodbav:"name"`
		CouncilCode  string `dynamodbav:"councilCode,omitempty"`
		Organisation string `dynamodbav:"organisation,omitempty"`
		JobTitle     string `dynamodbav:"jobTitle,omitempty"`
		Facilitate   bool   `dynamodbav:"facilitate"`
		ConsentAt    string `dynamodbav:"consentAt"`
		ConsentForm  string `dynamodbav:"consentForm"`
	}
	signupItem struct {
		Email        string   `dynamodbav:"email"`
		Name         string   `dynamodbav:"name"`
		CouncilCode  string   `dynamodbav:"councilCode,omitempty"`
		Organisation string   `dynamodbav:"organisation,omitempty"`
		JobTitle     string   `dynamodbav:"jobTitle,omitempty"`
		Facilitate   bool     `dynamodbav:"facilitate"`
		Groups       []string `dynamodbav:"groups"`
		Interest     string   `dynamodbav:"interest,omitempty"`
		Form         string   `dynamodbav:"form"`
		NonceHash    string   `dynamodbav:"nonceHash"`
		CreatedAt    string   `dynamodbav:"createdAt"`
		ExpiresAt    string   `dynamodbav:"expiresAt"`
	}
	membershipItem struct {
		GroupID     string `dynamodbav:"groupId"`
		Status      string `dynamodbav:"status"`
		JoinedAt    string `dynamodbav:"joinedAt"`
		LeftAt      string `dynamodbav:"leftAt,omitempty"`
		ConsentForm string `dynamodbav:"consentForm"`
	}
	interestItem struct {
		Region string `dynamodbav:"region"`
		At     string `dynamodbav:"at"`
	}
)

// Person reads everything stored about an address with one strongly consistent Query.
func (st *PeopleStore) Person(ctx context.Context, email string) (pg.Person, error) {
	person := pg.Person{Email: email}
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(personPK(email))},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return person, unavailable(fmt.Errorf("query person: %w", err))
		}
		for _, item := range page.Items {
			if expired(item, st.now()) {
				continue // TTL deletion is lazy: an expired item is gone already
			}
			if err := decodePersonItem(&person, item); err != nil {
				return person, err
			}
		}
	}
	return person, nil
}

// expired reports whether an item's ttl has passed at now.
func expired(item map[string]types.AttributeValue, now time.Time) bool {
	v, ok := item[attrTTL].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	ttl, err := strconv.ParseInt(v.Value, 10, 64)
	return err == nil && ttl <= now.Unix()
}

func decodePersonItem(person *pg.Person, item map[string]types.AttributeValue) error {
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return fmt.Errorf("person item without sort key")
	}
	kind, rest := kindOf(sk.Value)
	switch kind {
	case skProfile:
		var it profileItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode profile: %w", err)
		}
		person.Known = true
		person.Profile = pg.Profile{Name: it.Name, CouncilCode: it.CouncilCode, Organisation: it.Organisation, JobTitle: it.JobTitle, Facilitate: it.Facilitate, ConsentAt: parseStamp(it.ConsentAt), ConsentForm: it.ConsentForm}
	case skSignup:
		var it signupItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode signup: %w", err)
		}
		person.Signup = &pg.Signup{
			Email:     it.Email,
			Profile:   pg.Profile{Name: it.Name, CouncilCode: it.CouncilCode, Organisation: it.Organisation, JobTitle: it.JobTitle, Facilitate: it.Facilitate},
			Groups:    it.Groups,
			Interest:  it.Interest,
			Form:      it.Form,
			NonceHash: it.NonceHash,
			CreatedAt: parseStamp(it.CreatedAt),
			ExpiresAt: parseStamp(it.ExpiresAt),
		}
	case kindMembership:
		var it membershipItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode membership %s: %w", rest, err)
		}
		person.Memberships = append(person.Memberships, pg.Membership{GroupID: it.GroupID, Status: pg.Status(it.Status), JoinedAt: parseStamp(it.JoinedAt), LeftAt: parseStamp(it.LeftAt)})
	case kindRole:
		role, group, _ := strings.Cut(rest, "#")
		switch role {
		case pg.RoleAdmin:
			person.Admin = true
		case pg.RoleFacilitator:
			person.Facilitates = append(person.Facilitates, group)
		}
	case skDelivery:
		if v, ok := item["suppressed"].(*types.AttributeValueMemberS); ok {
			person.Suppressed = v.Value
		}
	case kindInterest:
		var it interestItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode interest %s: %w", rest, err)
		}
		person.Interests = append(person.Interests, pg.Interest{Region: it.Region, At: parseStamp(it.At)})
	}
	return nil
}

// SaveSignup stores a pending sign-up and its pending memberships, replacing the
// person's earlier sign-up, and counts it against the rate limits, in one transaction.
func (st *MembershipStore) SaveSignup(ctx context.Context, p pg.Person, su pg.Signup, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	ttl := su.ExpiresAt.Add(pg.SignupRetention).Unix()
	items := rateUpdates(st.Table, limits)
	item, err := attributevalue.MarshalMap(signupItem{
		Email: su.Email, Name: su.Profile.Name, CouncilCode: su.Profile.CouncilCode, Organisation: su.Profile.Organisation,
		JobTitle: su.Profile.JobTitle, Facilitate: su.Profile.Facilitate, Groups: su.Groups, Interest: su.Interest,
		Form: su.Form, NonceHash: su.NonceHash, CreatedAt: stamp(su.CreatedAt), ExpiresAt: stamp(su.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("encode signup: %w", err)
	}
	item[attrPK], item[attrSK], item[attrTTL] = s(personPK(su.Email)), s(skSignup), n(ttl)
	items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	for _, g := range su.Groups {
		if p.IsMember(g) {
			continue
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(personPK(su.Email)), attrSK: s(pendingSK(g)),
			attrGSI1PK: s(groupMembersPK(g)), attrGSI1SK: s(groupMemberSK(string(pg.StatusPending), su.Email)),
			"groupId": s(g), "status": s(string(pg.StatusPending)), "expiresAt": s(stamp(su.ExpiresAt)), attrTTL: n(su.ExpiresAt.Unix()),
			"email": s(su.Email), "name": s(su.Profile.Name), "councilCode": s(su.Profile.CouncilCode),
			"organisation": s(su.Profile.Organisation), "jobTitle": s(su.Profile.JobTitle),
		}}})
	}
	if p.Signup != nil {
		for _, g := range p.Signup.Groups {
			if !slices.Contains(su.Groups, g) {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(personPK(su.Email), pendingSK(g))}})
			}
		}
	}
	if items, err = st.withOutbox(items, out); err != nil {
		return err
	}
	return st.transact(ctx, "save signup", items, len(limits))
}

// ConfirmSignup turns a pending sign-up into memberships, in one transaction that
// only succeeds while the sign-up still holds the nonce hash of the link followed.
func (st *MembershipStore) ConfirmSignup(ctx context.Context, p pg.Person, su pg.Signup, at time.Time, out ...pg.OutboxItem) error {
	pk := personPK(su.Email)
	items := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:                 aws.String(st.Table),
		Key:                       key(pk, skSignup),
		ConditionExpression:       aws.String("nonceHash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(su.NonceHash)},
	}}}
	profile, err := attributevalue.MarshalMap(profileItem{
		Email: su.Email, Name: su.Profile.Name, CouncilCode: su.Profile.CouncilCode, Organisation: su.Profile.Organisation,
		JobTitle: su.Profile.JobTitle, Facilitate: su.Profile.Facilitate, ConsentAt: stamp(at), ConsentForm: su.Form,
	})
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	profile[attrPK], profile[attrSK] = s(pk), s(skProfile)
	items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: profile}})
	if su.ErasedHash != "" {
		// Signing up anew with a confirmed link lifts the suppression of an erased address.
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(pkSuppressed, erasedSK(su.ErasedHash))}})
	}
	for _, g := range su.Groups {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(pk, pendingSK(g))}})
		items = append(items, st.joinItem(su.Email, g, su.Form, su.Profile, at, p.IsMember(g)))
	}
	if su.Interest != "" {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(pk), attrSK: s(interestSK(su.Interest)), attrGSI1PK: s(interestPK(su.Interest)), attrGSI1SK: s(su.Email),
			"region": s(su.Interest), "at": s(stamp(at)),
		}}})
	}
	// A sign-up confirmed by its link is new consent: it lifts our suppression of the
	// address (not SES's account-level list), and ends any run of transient bounces.
	items = append(items,
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(pkSuppressed, su.Email)}},
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(pk, skDelivery)}})
	if p.Suppressed != "" {
		before, _ := json.Marshal(map[string]string{"suppressed": p.Suppressed})
		after, _ := json.Marshal(map[string]string{"consentForm": su.Form, "consentAt": stamp(at)})
		audit, err := st.auditPut(pg.AuditEntry{At: at, Actor: su.Email, Action: "lift suppression", Target: su.Email, Before: string(before), After: string(after)})
		if err != nil {
			return err
		}
		items = append(items, audit)
	}
	if items, err = st.withOutbox(items, out); err != nil {
		return err
	}
	err = st.transact(ctx, "confirm signup", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.ErrLinkUsed
	}
	return err
}

// joinItem makes a person a confirmed member of a group, with the details the
// members list shows. For someone already a member it only refreshes the details.
func (st *Store) joinItem(email, group, form string, profile pg.Profile, at time.Time, already bool) types.TransactWriteItem {
	update := "SET groupId = :g, #status = :s, joinedAt = :at, consentForm = :f, gsi1pk = :gpk, gsi1sk = :gsk, " +
		"email = :email, #name = :name, councilCode = :council, organisation = :org, jobTitle = :job REMOVE leftAt, #ttl"
	if already {
		update = "SET email = :email, #name = :name, councilCode = :council, organisation = :org, jobTitle = :job"
	}
	values := map[string]types.AttributeValue{
		":email": s(email), ":name": s(profile.Name), ":council": s(profile.CouncilCode), ":org": s(profile.Organisation), ":job": s(profile.JobTitle),
	}
	names := map[string]string{"#name": "name"}
	if !already {
		values[":g"], values[":s"], values[":at"], values[":f"] = s(group), s(string(pg.StatusConfirmed)), s(stamp(at)), s(form)
		values[":gpk"], values[":gsk"] = s(groupMembersPK(group)), s(groupMemberSK(string(pg.StatusConfirmed), email))
		names["#status"], names["#ttl"] = "status", attrTTL
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(st.Table),
		Key:                       key(personPK(email), membershipSK(group)),
		UpdateExpression:          aws.String(update),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// leftEveryGroup reports whether a change that joins join and leaves leave leaves the
// person in no group at all.
func leftEveryGroup(p pg.Person, join, leave []string) bool {
	if len(join) > 0 || len(leave) == 0 {
		return false
	}
	for _, g := range p.ConfirmedGroups() {
		if !slices.Contains(leave, g) {
			return false
		}
	}
	return true
}

// SetGroups joins and leaves groups and withdraws interests, in one transaction.
// Leaving is idempotent: leaving twice keeps the first time.
func (st *MembershipStore) SetGroups(ctx context.Context, p pg.Person, join, leave, withdraw []string, at time.Time) error {
	var items []types.TransactWriteItem
	for _, g := range join {
		items = append(items, st.joinItem(p.Email, g, "manage", p.Profile, at, false))
	}
	if len(join) > 0 && p.Known {
		// Back in a group: the person's details are kept again.
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(personPK(p.Email), skProfile),
			UpdateExpression: aws.String("REMOVE #ttl"), ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		}})
	}
	// Someone who leaves their last group is erased LeftMembers (12 months) later:
	// every item of their partition gets that ttl (kept on while they hold a role).
	erase := leftEveryGroup(p, join, leave) && st.Retention.LeftMembers > 0 && !p.Admin && len(p.Facilitates) == 0
	ttl := n(at.Add(st.Retention.LeftMembers).Unix())
	for _, g := range leave {
		update := "SET #status = :s, leftAt = if_not_exists(leftAt, :at), gsi1sk = :gsk"
		names := map[string]string{"#status": "status"}
		values := map[string]types.AttributeValue{
			":s": s(string(pg.StatusLeft)), ":at": s(stamp(at)), ":gsk": s(groupMemberSK(string(pg.StatusLeft), p.Email)),
		}
		if erase {
			update += ", #ttl = :ttl"
			names["#ttl"], values[":ttl"] = attrTTL, ttl
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(st.Table),
			Key:                       key(personPK(p.Email), membershipSK(g)),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	for _, region := range withdraw {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(personPK(p.Email), interestSK(region))}})
	}
	if erase {
		var keep []map[string]types.AttributeValue
		if p.Known {
			keep = append(keep, key(personPK(p.Email), skProfile))
		}
		for _, m := range p.Memberships {
			if !slices.Contains(leave, m.GroupID) {
				keep = append(keep, key(personPK(p.Email), membershipSK(m.GroupID)))
			}
		}
		for _, in := range p.Interests {
			if !slices.Contains(withdraw, in.Region) {
				keep = append(keep, key(personPK(p.Email), interestSK(in.Region)))
			}
		}
		for _, k := range keep {
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName: aws.String(st.Table), Key: k,
				UpdateExpression:          aws.String("SET #ttl = :ttl"),
				ConditionExpression:       aws.String("attribute_exists(pk)"),
				ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
				ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": ttl},
			}})
		}
	}
	if len(items) == 0 {
		return nil
	}
	return st.transact(ctx, "set groups", items, 0)
}
