package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type (
	roundItem struct {
		Number      int    `dynamodbav:"number"`
		Title       string `dynamodbav:"title"`
		Summary     string `dynamodbav:"summary"`
		PeriodStart string `dynamodbav:"periodStart"`
		PeriodEnd   string `dynamodbav:"periodEnd"`
		State       string `dynamodbav:"state"`
		PublishedAt string `dynamodbav:"publishedAt"`
	}
	eventItem struct {
		Round     int    `dynamodbav:"round"`
		GroupID   string `dynamodbav:"groupId"`
		Start     string `dynamodbav:"start"`
		End       string `dynamodbav:"end"`
		Venue     string `dynamodbav:"venue"`
		Address   string `dynamodbav:"address"`
		OnlineURL string `dynamodbav:"onlineUrl"`
		Capacity  int    `dynamodbav:"capacity"`
		Note      string `dynamodbav:"note"`
		Going     int    `dynamodbav:"going"`
		Waiting   int    `dynamodbav:"waiting"`
	}
	publicationItem struct {
		Round      int    `dynamodbav:"round"`
		Total      int    `dynamodbav:"total"`
		Done       bool   `dynamodbav:"done"`
		StartedAt  string `dynamodbav:"startedAt"`
		FinishedAt string `dynamodbav:"finishedAt"`
		ResumedAt  string `dynamodbav:"resumedAt"`
		Published  string `dynamodbav:"publishedAt"`
		// KitsChecked and KitVariants: pg.Publication's.
		KitsChecked bool     `dynamodbav:"kitsChecked"`
		KitVariants []string `dynamodbav:"kitVariants"`
		breakerItem
	}
	progressItem struct {
		Sent       int    `dynamodbav:"sent"`
		Failed     int    `dynamodbav:"failed"`
		Suppressed int    `dynamodbav:"suppressed"`
		At         string `dynamodbav:"at"`
		Kind       string `dynamodbav:"kind"`
		Group      string `dynamodbav:"groupId"`
	}
)

const dateLayout = "2006-01-02"

func roundOf(it roundItem) pg.Round {
	start, _ := time.ParseInLocation(dateLayout, it.PeriodStart, pg.London)
	end, _ := time.ParseInLocation(dateLayout, it.PeriodEnd, pg.London)
	return pg.Round{Number: it.Number, Title: it.Title, Summary: it.Summary, PeriodStart: start, PeriodEnd: end, State: it.State, PublishedAt: parseStamp(it.PublishedAt)}
}

// CreateRound adds a round; a KindConflict error if its number is taken.
func (st *RoundStore) CreateRound(ctx context.Context, r pg.Round, a pg.AuditEntry) error {
	item, err := attributevalue.MarshalMap(roundItem{Number: r.Number, Title: r.Title, Summary: r.Summary,
		PeriodStart: r.PeriodStart.Format(dateLayout), PeriodEnd: r.PeriodEnd.Format(dateLayout), State: r.State})
	if err != nil {
		return fmt.Errorf("encode round: %w", err)
	}
	item[attrPK], item[attrSK] = s(pkRounds), s(roundSK(r.Number))
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "create round", []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}}, audit}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "There is already a round %d", r.Number)
	}
	return err
}

// Rounds lists the rounds, newest first.
func (st *RoundStore) Rounds(ctx context.Context) ([]pg.Round, error) {
	var items []roundItem
	if err := st.queryAll(ctx, pkRounds, &items); err != nil {
		return nil, err
	}
	out := make([]pg.Round, len(items))
	for i, it := range items {
		out[i] = roundOf(it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number > out[j].Number })
	return out, nil
}

// Round reads one round.
func (st *RoundStore) Round(ctx context.Context, n int) (pg.Round, error) {
	var it roundItem
	if err := st.get(ctx, pkRounds, roundSK(n), &it); err != nil {
		return pg.Round{}, err
	}
	return roundOf(it), nil
}

// PutEvent sets a group's event for a round, keeping the count of who is going.
func (st *RoundStore) PutEvent(ctx context.Context, e pg.Event, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	expr, names, values := set(map[string]types.AttributeValue{
		"round": n(int64(e.Round)), "groupId": s(e.GroupID), "start": s(stamp(e.Start)), "end": s(stamp(e.End)),
		"venue": s(e.Venue), "address": s(e.Address), "onlineUrl": s(e.OnlineURL), "capacity": n(int64(e.Capacity)), "note": s(e.Note),
	})
	names["#going"], values[":zero"] = "going", n(0)
	return st.transact(ctx, "set event", []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(e.Round), eventSK(e.GroupID)),
		UpdateExpression:          aws.String(expr + ", #going = if_not_exists(#going, :zero)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, audit}, 0)
}

// Events lists a round's events.
func (st *RoundStore) Events(ctx context.Context, round int) ([]pg.Event, error) {
	var all []eventItem
	var items []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, roundPK(round), prefixEvent, &items); err != nil {
		return nil, err
	}
	if err := attributevalue.UnmarshalListOfMaps(items, &all); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	out := make([]pg.Event, len(all))
	for i, it := range all {
		out[i] = pg.Event{Round: it.Round, GroupID: it.GroupID, Start: parseStamp(it.Start).In(pg.London), End: parseStamp(it.End).In(pg.London),
			Venue: it.Venue, Address: it.Address, OnlineURL: it.OnlineURL, Capacity: it.Capacity, Note: it.Note, Going: it.Going, Waiting: it.Waiting}
	}
	return out, nil
}

// PublishRound marks a draft round published and inserts its publication, whose
// arrival on the stream starts the announcements, with the audit entry.
func (st *RoundStore) PublishRound(ctx context.Context, r pg.Round, a pg.AuditEntry, kits ...pg.PublishedKits) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	publication := map[string]types.AttributeValue{
		attrPK: s(roundPK(r.Number)), attrSK: s(skPublication), attrRound: n(int64(r.Number)), "kind": s("publication"),
		"total": n(0), "done": &types.AttributeValueMemberBOOL{Value: false}, "publishedAt": s(stamp(r.PublishedAt)),
	}
	var notices []pg.OutboxItem
	for _, k := range kits {
		// Which groups' members are linked to their own version of the kit.
		variants := make([]types.AttributeValue, len(k.Variants))
		for i, g := range k.Variants {
			variants[i] = s(g)
		}
		publication["kitsChecked"] = &types.AttributeValueMemberBOOL{Value: true}
		publication["kitVariants"] = &types.AttributeValueMemberL{Value: variants}
		notices = append(notices, k.Notices...)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(pkRounds, roundSK(r.Number)),
			UpdateExpression:          aws.String("SET #state = :published, publishedAt = :at"),
			ConditionExpression:       aws.String("#state = :draft"),
			ExpressionAttributeNames:  map[string]string{"#state": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":published": s(pg.RoundPublished), ":draft": s(pg.RoundDraft), ":at": s(stamp(r.PublishedAt))},
		}},
		{Put: &types.Put{TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: publication}},
		audit,
	}
	if items, err = st.withOutbox(items, notices); err != nil {
		return err
	}
	err = st.transact(ctx, "publish round", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && (reasonAt(cancelled, 0) == "ConditionalCheckFailed" || reasonAt(cancelled, 1) == "ConditionalCheckFailed") {
		return pg.Errorf(pg.KindConflict, "Round %d has already been published.", r.Number)
	}
	return err
}

// Publication reads the state of a round's announcements: its PUBLICATION item, and
// the counts of every settle so far, summed from their progress items (one strongly
// consistent Query; a round of 10,000 has about 200 of them).
func (st *RoundStore) Publication(ctx context.Context, round int) (pg.Publication, error) {
	var it publicationItem
	if err := st.get(ctx, roundPK(round), skPublication, &it); err != nil {
		return pg.Publication{}, err
	}
	pub := pg.Publication{Round: it.Round, Total: it.Total, Done: it.Done,
		StartedAt: parseStamp(it.StartedAt), FinishedAt: parseStamp(it.FinishedAt), ResumedAt: parseStamp(it.ResumedAt), PublishedAt: parseStamp(it.Published),
		KitsChecked: it.KitsChecked, KitVariants: it.KitVariants, Breaker: it.breakerItem.state(), Groups: map[string]pg.Progress{}}
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, progressPK(round), "", &raw); err != nil {
		return pg.Publication{}, err
	}
	var progress []progressItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &progress); err != nil {
		return pg.Publication{}, fmt.Errorf("decode progress of round %d: %w", round, err)
	}
	for _, p := range progress {
		pub.Sent += p.Sent
		pub.Failed += p.Failed
		pub.Suppressed += p.Suppressed
		if p.Kind == string(pg.LedgerAnnouncement) && p.Group != "" {
			g := pub.Groups[p.Group]
			g.Sent, g.Failed, g.Suppressed = g.Sent+p.Sent, g.Failed+p.Failed, g.Suppressed+p.Suppressed
			pub.Groups[p.Group] = g
		}
		if at := parseStamp(p.At); at.After(pub.MovedAt) {
			pub.MovedAt = at
		}
	}
	return pub, nil
}

// ResumePublication restarts a stalled round's announcements: it records when, and
// inserts a PUBLICATION#RESUME item whose arrival on the stream runs the announce
// function again (the same ledger, so nobody is sent twice), with its audit entry.
func (st *RoundStore) ResumePublication(ctx context.Context, round int, at time.Time, a pg.AuditEntry) error {
	return st.resume(ctx, round, at, &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET resumedAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND done = :no"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": s(stamp(at)), ":no": &types.AttributeValueMemberBOOL{Value: false}},
	}, fmt.Sprintf("Round %d has finished sending.", round), a)
}

// resume writes, in one transaction, update (the round's PUBLICATION item, on the
// condition that its sending may resume), the PUBLICATION#RESUME item whose arrival on
// the stream runs the announce function again (the same ledger, so nobody is sent
// twice), and the audit entry. refused is the conflict's message when update's
// condition fails.
func (st *RoundStore) resume(ctx context.Context, round int, at time.Time, update *types.Update, refused string, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Update: update},
		{Put: &types.Put{TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
			attrPK: s(roundPK(round)), attrSK: s(resumeSK(stamp(at))), attrRound: n(int64(round)), "kind": s("resume"),
			attrTTL: n(at.Add(7 * 24 * time.Hour).Unix()),
		}}},
		audit,
	}
	err = st.transact(ctx, "resume publication", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		if reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
			return pg.Errorf(pg.KindConflict, "%s", refused)
		}
		if reasonAt(cancelled, 1) == "ConditionalCheckFailed" {
			return pg.Errorf(pg.KindConflict, "Sending round %d has just been resumed.", round)
		}
	}
	return err
}

// CloseRound marks a published round closed, with its audit entry.
func (st *RoundStore) CloseRound(ctx context.Context, r pg.Round, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	return st.transact(ctx, "close round", []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(pkRounds, roundSK(r.Number)),
		UpdateExpression:          aws.String("SET #state = :closed"),
		ConditionExpression:       aws.String("#state = :published"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":closed": s(pg.RoundClosed), ":published": s(pg.RoundPublished)},
	}}, audit}, 0)
}

// StartPublication records how many recipients a round has, and when sending began.
func (st *RoundStore) StartPublication(ctx context.Context, round, total int, at time.Time) error {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET #total = :total, startedAt = if_not_exists(startedAt, :at)"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#total": "total"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":total": n(int64(total)), ":at": s(stamp(at))},
	})
	if err != nil {
		return unavailable(fmt.Errorf("start publication %d: %w", round, err))
	}
	return nil
}

// FinishPublication marks a round's announcements done.
func (st *RoundStore) FinishPublication(ctx context.Context, round int, at time.Time) error {
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(st.Table), Key: key(roundPK(round), skPublication),
		UpdateExpression:          aws.String("SET done = :done, finishedAt = if_not_exists(finishedAt, :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": &types.AttributeValueMemberBOOL{Value: true}, ":at": s(stamp(at))},
	})
	if err != nil {
		return unavailable(fmt.Errorf("finish publication %d: %w", round, err))
	}
	return nil
}
