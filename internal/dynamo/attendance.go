package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Answers live in the event's own partition: ATTEND#<nnnn>#<group> / <email>.
func attendancePK(round int, group string) string { return fmt.Sprintf("ATTEND#%04d#%s", round, group) }

type attendanceItem struct {
	Email  string `dynamodbav:"email"`
	Name   string `dynamodbav:"name"`
	Status string `dynamodbav:"status"`
	Since  string `dynamodbav:"since"`
}

func (st *Store) attendancePut(a pg.Attendance, status string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(attendancePK(a.Round, a.Group)), attrSK: s(a.Email),
		"email": s(a.Email), "name": s(a.Name), "status": s(status), "since": s(stamp(a.Since)),
	}}}
}

// placeChange adds delta to an event's places taken, within its capacity.
func (st *Store) placeChange(round int, group string, delta int64) types.TransactWriteItem {
	condition := "#going < #capacity"
	names := map[string]string{"#going": "going", "#capacity": "capacity"}
	values := map[string]types.AttributeValue{":delta": n(delta)}
	if delta < 0 {
		condition = "#going > :zero"
		delete(names, "#capacity")
		values[":zero"] = n(0)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(round), eventSK(group)),
		UpdateExpression:          aws.String("ADD #going :delta"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND " + condition),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// Attendance reads one person's answer.
func (st *Store) Attendance(ctx context.Context, round int, group, email string) (pg.Attendance, error) {
	var it attendanceItem
	if err := st.get(ctx, attendancePK(round, group), email, &it); err != nil {
		return pg.Attendance{}, err
	}
	return pg.Attendance{Round: round, Group: group, Email: it.Email, Name: it.Name, Status: it.Status, Since: parseStamp(it.Since)}, nil
}

// Attendees lists every answer for an event.
func (st *Store) Attendees(ctx context.Context, round int, group string) ([]pg.Attendance, error) {
	var items []attendanceItem
	if err := st.queryAll(ctx, attendancePK(round, group), &items); err != nil {
		return nil, err
	}
	out := make([]pg.Attendance, len(items))
	for i, it := range items {
		out[i] = pg.Attendance{Round: round, Group: group, Email: it.Email, Name: it.Name, Status: it.Status, Since: parseStamp(it.Since)}
	}
	return out, nil
}

// Attend takes a free place, or puts the person on the waiting list when there is none.
func (st *Store) Attend(ctx context.Context, a pg.Attendance) (bool, error) {
	err := st.transact(ctx, "attend", []types.TransactWriteItem{st.placeChange(a.Round, a.Group, 1), st.attendancePut(a, pg.Going)}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		if err := st.transact(ctx, "wait", []types.TransactWriteItem{st.attendancePut(a, pg.Waiting)}, 0); err != nil {
			return false, err
		}
		return false, nil
	}
	return err == nil, err
}

// Withdraw records "not going", giving the place back when the person had one.
func (st *Store) Withdraw(ctx context.Context, a pg.Attendance, hadPlace bool) error {
	items := []types.TransactWriteItem{st.attendancePut(a, pg.NotGoing)}
	if hadPlace {
		items[0].Put.ConditionExpression = aws.String("#status = :going")
		items[0].Put.ExpressionAttributeNames = map[string]string{"#status": "status"}
		items[0].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":going": s(pg.Going)}
		items = append(items, st.placeChange(a.Round, a.Group, -1))
	}
	err := st.transact(ctx, "withdraw", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return nil // answered already, by another click
	}
	return err
}

// Promote moves a waiting person into a free place.
func (st *Store) Promote(ctx context.Context, a pg.Attendance, at time.Time) (bool, error) {
	update := types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(attendancePK(a.Round, a.Group), a.Email),
		UpdateExpression:          aws.String("SET #status = :going, #since = :at"),
		ConditionExpression:       aws.String("#status = :waiting"),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#since": "since"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":going": s(pg.Going), ":waiting": s(pg.Waiting), ":at": s(stamp(at))},
	}}
	err := st.transact(ctx, "promote", []types.TransactWriteItem{st.placeChange(a.Round, a.Group, 1), update}, 0)
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		return false, nil
	}
	return err == nil, err
}
