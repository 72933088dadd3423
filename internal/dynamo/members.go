package dynamo

// A group's members, read from gsi1: the lists facilitators and admins see, the
// counts and pages the announcer reads, and the import of an existing list.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type memberItem struct {
	Email        string `dynamodbav:"email"`
	Name         string `dynamodbav:"name"`
	CouncilCode  string `dynamodbav:"councilCode"`
	Organisation string `dynamodbav:"organisation"`
	JobTitle     string `dynamodbav:"jobTitle"`
	Status       string `dynamodbav:"status"`
	JoinedAt     string `dynamodbav:"joinedAt"`
	LeftAt       string `dynamodbav:"leftAt"`
	ExpiresAt    string `dynamodbav:"expiresAt"`
}

// GroupMembers lists a group's members with a status, from gsi1.
func (st *MemberStore) GroupMembers(ctx context.Context, group string, status pg.Status) ([]pg.MemberRow, error) {
	var rows []pg.MemberRow
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName:              aws.String(st.Table),
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status))),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		for _, item := range page.Items {
			row, err := memberRow(group, item)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// maxPageQueries bounds the Queries one page of members may take (pending members
// that have expired are skipped, so a page may need more than one).
const maxPageQueries = 50

// GroupMembersPage returns up to limit members of a group with a status, in the order
// of their addresses, after the address from ("" for the start), or with backward set
// the limit before it (returned in ascending order), and whether there are more beyond
// them. It reads limit+1 rows of gsi1 to know whether more follow. The cursor key is
// rebuilt here from the group, the status and the address, so a page can only ever
// start inside that group's list.
func (st *MemberStore) GroupMembersPage(ctx context.Context, group string, status pg.Status, from string, backward bool, limit int, now time.Time) ([]pg.MemberRow, bool, error) {
	var start map[string]types.AttributeValue
	if from != "" {
		sk := membershipSK(group)
		if status == pg.StatusPending {
			sk = pendingSK(group)
		}
		start = key(personPK(from), sk)
		start[attrGSI1PK], start[attrGSI1SK] = s(groupMembersPK(group)), s(groupMemberSK(string(status), from))
	}
	var rows []pg.MemberRow
	for range maxPageQueries {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(st.Table),
			IndexName:              aws.String(indexGSI1),
			KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status))),
			},
			ExclusiveStartKey: start,
			ScanIndexForward:  aws.Bool(!backward),
			Limit:             aws.Int32(int32(limit + 1 - len(rows))),
		})
		if err != nil {
			return nil, false, unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		for _, item := range out.Items {
			row, err := memberRow(group, item)
			if err != nil {
				return nil, false, err
			}
			// TTL deletion is lazy: leave out pending members that have expired.
			if status == pg.StatusPending && !now.Before(row.ExpiresAt) {
				continue
			}
			rows = append(rows, row)
		}
		start = out.LastEvaluatedKey
		if len(rows) > limit || start == nil {
			break
		}
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	if backward {
		slices.Reverse(rows)
	}
	return rows, more, nil
}

func memberRow(group string, item map[string]types.AttributeValue) (pg.MemberRow, error) {
	var it memberItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return pg.MemberRow{}, fmt.Errorf("decode member of %s: %w", group, err)
	}
	if it.Email == "" {
		if pk, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
			it.Email = emailOfPersonPK(pk.Value)
		}
	}
	return pg.MemberRow{
		Email: it.Email, Name: it.Name, CouncilCode: it.CouncilCode, Organisation: it.Organisation, JobTitle: it.JobTitle,
		Status: pg.Status(it.Status), JoinedAt: parseStamp(it.JoinedAt), LeftAt: parseStamp(it.LeftAt), ExpiresAt: parseStamp(it.ExpiresAt),
	}, nil
}

// CountMembers counts a group's members with a status, without reading them.
func (st *MemberStore) CountMembers(ctx context.Context, group string, status pg.Status) (int, error) {
	total := 0
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status)))},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, unavailable(fmt.Errorf("count members of %s: %w", group, err))
		}
		total += int(page.Count)
	}
	return total, nil
}

// MemberPages calls fn with each page of a group's members with a status, so that
// memory does not grow with the group.
func (st *MemberStore) MemberPages(ctx context.Context, group string, status pg.Status, fn func([]pg.MemberRow) error) error {
	p := dynamodb.NewQueryPaginator(st.db.Query, &dynamodb.QueryInput{
		TableName: aws.String(st.Table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(groupMembersPK(group)), ":prefix": s(groupMemberPrefix(string(status)))},
		ProjectionExpression:      aws.String("email, #name"),
		ExpressionAttributeNames:  map[string]string{"#name": "name"},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(fmt.Errorf("query members of %s: %w", group, err))
		}
		var items []memberItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return fmt.Errorf("decode members of %s: %w", group, err)
		}
		rows := make([]pg.MemberRow, len(items))
		for i, it := range items {
			rows[i] = pg.MemberRow{Email: it.Email, Name: it.Name}
		}
		if err := fn(rows); err != nil {
			return err
		}
	}
	return nil
}

// ImportMembers writes confirmed members of a group in batches of 25, without
// confirmation emails: for moving an existing list in, and for the benchmark.
func (st *MemberStore) ImportMembers(ctx context.Context, group string, members []pg.MemberRow, at time.Time) error {
	for start := 0; start < len(members); start += 25 {
		var reqs []types.WriteRequest
		for _, m := range members[start:min(start+25, len(members))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				attrPK: s(personPK(m.Email)), attrSK: s(membershipSK(group)),
				attrGSI1PK: s(groupMembersPK(group)), attrGSI1SK: s(groupMemberSK(string(pg.StatusConfirmed), m.Email)),
				"groupId": s(group), "status": s(string(pg.StatusConfirmed)), "joinedAt": s(stamp(at)), "consentForm": s("import"),
				"email": s(m.Email), "name": s(m.Name), "councilCode": s(m.CouncilCode), "organisation": s(m.Organisation), "jobTitle": s(m.JobTitle),
			}}})
		}
		for len(reqs) > 0 {
			out, err := st.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{st.Table: reqs}})
			if err != nil {
				return unavailable(fmt.Errorf("import members: %w", err))
			}
			reqs = out.UnprocessedItems[st.Table]
		}
	}
	return nil
}
