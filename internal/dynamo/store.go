package dynamo

import (
	"context"
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

// Store keeps the domain in one table.
type Store struct {
	DB    *dynamodb.Client
	Table string
	// Box seals the emails kept in the outbox (they carry working links); a store
	// without one refuses to write or read them.
	Box Sealer
}

// New returns a Store for a table.
func New(db *dynamodb.Client, table string) *Store { return &Store{DB: db, Table: table} }

// The items, as stored. Times are RFC 3339 strings in UTC; ttl is Unix seconds.
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
	groupItem struct {
		PK          string   `dynamodbav:"pk"`
		SK          string   `dynamodbav:"sk"`
		ID          string   `dynamodbav:"id"`
		Name        string   `dynamodbav:"name"`
		Description string   `dynamodbav:"description"`
		Regions     []string `dynamodbav:"regions"`
		Contact     string   `dynamodbav:"contact,omitempty"`
		Paused      bool     `dynamodbav:"paused"`
		Version     int      `dynamodbav:"version"` // absent (0) on groups written before versions
	}
	councilItem struct {
		PK     string `dynamodbav:"pk"`
		SK     string `dynamodbav:"sk"`
		Code   string `dynamodbav:"code"`
		Name   string `dynamodbav:"name"`
		Nation string `dynamodbav:"nation"`
		Region string `dynamodbav:"region"`
	}
)

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(pk), attrSK: s(sk)}
}

// Groups returns every group, ordered by name.
func (st *Store) Groups(ctx context.Context) ([]pg.Group, error) {
	var groups []pg.Group
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pkGroups)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query groups: %w", err))
		}
		var items []groupItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode groups: %w", err)
		}
		for _, it := range items {
			groups = append(groups, it.group())
		}
	}
	slices.SortFunc(groups, func(a, b pg.Group) int { return cmpString(a.Name, b.Name) })
	return groups, nil
}

func (it groupItem) group() pg.Group {
	return pg.Group{ID: it.ID, Name: it.Name, Description: it.Description, Regions: it.Regions, Contact: it.Contact, Paused: it.Paused, Version: it.Version}
}

// Group reads one group with a strongly consistent GetItem.
func (st *Store) Group(ctx context.Context, id string) (pg.Group, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key(pkGroups, groupSK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return pg.Group{}, unavailable(fmt.Errorf("get group %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return pg.Group{}, pg.Errorf(pg.KindNotFound, "There is no group called %s.", id)
	}
	var it groupItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return pg.Group{}, fmt.Errorf("decode group %s: %w", id, err)
	}
	return it.group(), nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// PutGroup creates or replaces a group.
func (st *Store) PutGroup(ctx context.Context, g pg.Group) error {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused})
	if err != nil {
		return fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: item}); err != nil {
		return unavailable(fmt.Errorf("put group %s: %w", g.ID, err))
	}
	return nil
}

// PutCouncils writes the councils in batches of 25.
func (st *Store) PutCouncils(ctx context.Context, councils []pg.Council) error {
	for start := 0; start < len(councils); start += 25 {
		var reqs []types.WriteRequest
		for _, c := range councils[start:min(start+25, len(councils))] {
			item, err := attributevalue.MarshalMap(councilItem{PK: pkCouncil, SK: councilSK(c.Code), Code: c.Code, Name: c.Name, Nation: c.Nation, Region: c.Region})
			if err != nil {
				return fmt.Errorf("encode council %s: %w", c.Code, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for len(reqs) > 0 {
			out, err := st.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Table: reqs}})
			if err != nil {
				return unavailable(fmt.Errorf("put councils: %w", err))
			}
			reqs = out.UnprocessedItems[st.Table]
		}
	}
	return nil
}

// Person reads everything stored about an address with one strongly consistent Query.
func (st *Store) Person(ctx context.Context, email string) (pg.Person, error) {
	person := pg.Person{Email: email}
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
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
			if err := decodePersonItem(&person, item); err != nil {
				return person, err
			}
		}
	}
	return person, nil
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
func (st *Store) SaveSignup(ctx context.Context, p pg.Person, su pg.Signup, limits []pg.RateLimit, out ...pg.OutboxItem) error {
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
func (st *Store) ConfirmSignup(ctx context.Context, p pg.Person, su pg.Signup, at time.Time, out ...pg.OutboxItem) error {
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
		"email = :email, #name = :name, councilCode = :council, organisation = :org, jobTitle = :job REMOVE leftAt"
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
		names["#status"] = "status"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(st.Table),
		Key:                       key(personPK(email), membershipSK(group)),
		UpdateExpression:          aws.String(update),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// SetGroups joins and leaves groups and withdraws interests, in one transaction.
// Leaving is idempotent: leaving twice keeps the first time.
func (st *Store) SetGroups(ctx context.Context, p pg.Person, join, leave, withdraw []string, at time.Time) error {
	var items []types.TransactWriteItem
	for _, g := range join {
		items = append(items, st.joinItem(p.Email, g, "manage", p.Profile, at, false))
	}
	for _, g := range leave {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                aws.String(st.Table),
			Key:                      key(personPK(p.Email), membershipSK(g)),
			UpdateExpression:         aws.String("SET #status = :s, leftAt = if_not_exists(leftAt, :at), gsi1sk = :gsk"),
			ConditionExpression:      aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames: map[string]string{"#status": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": s(string(pg.StatusLeft)), ":at": s(stamp(at)), ":gsk": s(groupMemberSK(string(pg.StatusLeft), p.Email)),
			},
		}})
	}
	for _, region := range withdraw {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(st.Table), Key: key(personPK(p.Email), interestSK(region))}})
	}
	if len(items) == 0 {
		return nil
	}
	return st.transact(ctx, "set groups", items, 0)
}

// CountRequest counts one request against the limits, with its outbox items, all or
// nothing.
func (st *Store) CountRequest(ctx context.Context, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	items, err := st.withOutbox(rateUpdates(st.Table, limits), out)
	if err != nil {
		return err
	}
	return st.transact(ctx, "count request", items, len(limits))
}

// rateUpdates returns the counter updates for limits: each adds one, unless the
// counter has reached its limit, in which case the whole transaction is cancelled.
func rateUpdates(table string, limits []pg.RateLimit) []types.TransactWriteItem {
	var items []types.TransactWriteItem
	for _, l := range limits {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(table),
			Key:                       key(rateLimitPK(l.Key), skRate),
			UpdateExpression:          aws.String("ADD hits :one SET #ttl = :ttl"),
			ConditionExpression:       aws.String("attribute_not_exists(hits) OR hits < :limit"),
			ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":ttl": n(l.Until.Unix()), ":limit": n(int64(l.Limit))},
		}})
	}
	return items
}

// ErrTooMany is returned when a rate limit is reached.
var ErrTooMany = pg.Errorf(pg.KindTooMany, "You have made too many requests. Wait an hour, then try again.")

// transact runs a transaction whose first rateItems items are rate-limit counters.
func (st *Store) transact(ctx context.Context, what string, items []types.TransactWriteItem, rateItems int) error {
	_, err := st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		for i := 0; i < rateItems; i++ {
			if reasonAt(cancelled, i) == "ConditionalCheckFailed" {
				return ErrTooMany
			}
		}
		if !contended(cancelled) {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return unavailable(fmt.Errorf("%s: %w", what, contendedOr(err)))
}

// contended reports whether DynamoDB cancelled a transaction only because of other
// writes in flight (TransactionConflict) or throttling, and not because a condition
// failed: trying the same transaction again later is right.
func contended(e *types.TransactionCanceledException) bool {
	busy := false
	for _, r := range e.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed", "ValidationError", "ItemCollectionSizeLimitExceeded":
			return false
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			busy = true
		}
	}
	return busy
}

// contendedOr marks err with pg.ErrContended when it says that other writes were in the
// way (a cancelled transaction's conflicts, or the same transaction still in progress).
func contendedOr(err error) error {
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && contended(cancelled) {
		return fmt.Errorf("%w: %w", pg.ErrContended, err)
	}
	if _, ok := errors.AsType[*types.TransactionInProgressException](err); ok {
		return fmt.Errorf("%w: %w", pg.ErrContended, err)
	}
	return err
}

func reasonAt(e *types.TransactionCanceledException, i int) string {
	if i < len(e.CancellationReasons) && e.CancellationReasons[i].Code != nil {
		return *e.CancellationReasons[i].Code
	}
	return ""
}

// unavailable marks an error talking to DynamoDB as worth retrying later.
func unavailable(err error) error {
	return pg.Wrap(pg.KindUnavailable, err, "The service is not available just now. Try again in a few minutes.")
}

// CreateGroup adds a group; it returns a KindConflict error if one with its ID exists.
func (st *Store) CreateGroup(ctx context.Context, g pg.Group) error {
	item, err := attributevalue.MarshalMap(groupItem{PK: pkGroups, SK: groupSK(g.ID), ID: g.ID, Name: g.Name, Description: g.Description, Regions: g.Regions, Contact: g.Contact, Paused: g.Paused})
	if err != nil {
		return fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return pg.Errorf(pg.KindConflict, "There is already a group called %s", g.ID)
	}
	if err != nil {
		return unavailable(fmt.Errorf("create group %s: %w", g.ID, err))
	}
	return nil
}

// Seed adds the groups that are missing (an existing group is left as it is) and
// writes the councils.
func (st *Store) Seed(ctx context.Context, groups []pg.Group, councils []pg.Council) error {
	for _, g := range groups {
		if err := st.CreateGroup(ctx, g); err != nil && pg.KindOf(err) != pg.KindConflict {
			return fmt.Errorf("seed groups: %w", err)
		}
	}
	if err := st.PutCouncils(ctx, councils); err != nil {
		return fmt.Errorf("seed councils: %w", err)
	}
	return nil
}

// set builds "SET #a0 = :v0, #a1 = :v1, ..." for attributes, naming every attribute
// with a placeholder so that none can clash with DynamoDB's reserved words.
func set(attrs map[string]types.AttributeValue) (string, map[string]string, map[string]types.AttributeValue) {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	expr := make([]string, len(names))
	placeholders := map[string]string{}
	values := map[string]types.AttributeValue{}
	for i, name := range names {
		placeholders["#a"+strconv.Itoa(i)] = name
		values[":v"+strconv.Itoa(i)] = attrs[name]
		expr[i] = "#a" + strconv.Itoa(i) + " = :v" + strconv.Itoa(i)
	}
	return "SET " + strings.Join(expr, ", "), placeholders, values
}
