package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type attendanceItem struct {
	Email  string `dynamodbav:"email"`
	Name   string `dynamodbav:"name"`
	Status string `dynamodbav:"status"`
	Since  string `dynamodbav:"since"`
	Seq    int64  `dynamodbav:"seq"`
}

func attendanceOf(round int, group string, it attendanceItem) pg.Attendance {
	return pg.Attendance{Round: round, Group: group, Email: it.Email, Name: it.Name, Status: it.Status, Since: parseStamp(it.Since), Seq: it.Seq}
}

// placesItem is the part of a group's event item that counts its places.
type placesItem struct {
	Capacity int   `dynamodbav:"capacity"`
	Going    int   `dynamodbav:"going"`
	Waiting  int   `dynamodbav:"waiting"`
	Answers  int64 `dynamodbav:"answers"`
}

// How hard ChangeAnswer tries. Each "changed meanwhile" means another answer for the
// same event was committed between this one's read and its write, so an answer racing
// n others is refused at most n times; conflicts (AWS cancels concurrent transactions
// on one item) are waited out with jittered, growing pauses.
const (
	answerAttempts    = 40
	answerPauseFirst  = 5 * time.Millisecond
	answerPauseMax    = 400 * time.Millisecond
	reasonConditional = "ConditionalCheckFailed"
)

// Attendance reads one person's answer.
func (st *RSVPStore) Attendance(ctx context.Context, round int, group, email string) (pg.Attendance, error) {
	var it attendanceItem
	if err := st.get(ctx, attendancePK(round, group), email, &it); err != nil {
		return pg.Attendance{}, err
	}
	return attendanceOf(round, group, it), nil
}

// Attendees lists every answer for an event, read consistently.
func (st *RSVPStore) Attendees(ctx context.Context, round int, group string) ([]pg.Attendance, error) {
	var raw []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, attendancePK(round, group), "", &raw); err != nil {
		return nil, err
	}
	var items []attendanceItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode answers: %w", err)
	}
	out := make([]pg.Attendance, len(items))
	for i, it := range items {
		out[i] = attendanceOf(round, group, it)
	}
	return out, nil
}

// ChangeAnswer reads what an answer is decided from, asks decide, and commits the
// change in one transaction: the event's counters conditioned on the number of answers
// read (and, when a place is taken, on capacity), the person's answer conditioned on
// the one read, and a promotion conditioned on the promoted person still waiting with
// the answer read. A cancellation for a failed condition means another answer came
// first: it reads again and decides again. A TransactionConflict is paused for.
func (st *RSVPStore) ChangeAnswer(ctx context.Context, round int, group, email string, decide func(pg.AnswerState) pg.AnswerChange) (pg.AnswerChange, error) {
	var last error
	for attempt := range answerAttempts {
		if attempt > 0 {
			if err := pause(ctx, attempt, errors.Is(last, errAnswerConflict)); err != nil {
				return pg.AnswerChange{}, fmt.Errorf("record answer of %s: %w", email, err)
			}
		}
		state, err := st.answerState(ctx, round, group, email)
		if err != nil {
			return pg.AnswerChange{}, err
		}
		change := decide(state)
		if !change.Changed {
			return change, nil
		}
		items, err := st.answerItems(round, group, state.Places, change)
		if err != nil {
			return pg.AnswerChange{}, err
		}
		_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return change, nil
		}
		cancelled, ok := errors.AsType[*types.TransactionCanceledException](err)
		switch {
		case ok && contended(cancelled):
			last = fmt.Errorf("%w: %w", errAnswerConflict, err)
		case ok && hasReason(cancelled, reasonConditional):
			last = fmt.Errorf("%w: %w", errAnswerChanged, err)
		default:
			return pg.AnswerChange{}, unavailable(fmt.Errorf("record answer of %s: %w", email, err))
		}
	}
	return pg.AnswerChange{}, pg.Wrap(pg.KindUnavailable, fmt.Errorf("record answer of %s: gave up after %d attempts: %w", email, answerAttempts, last),
		"Many people are answering at once. Your answer has not been saved: try again in a minute.")
}

var (
	errAnswerChanged  = errors.New("another answer was committed first")
	errAnswerConflict = errors.New("cancelled for a conflicting transaction")
)

// answerState reads the event's places first, then the person's answer and the waiting
// list: read in that order, they are at least as new as the places, so a write
// conditioned on the places' answers count was decided from the state it changes.
func (st *RSVPStore) answerState(ctx context.Context, round int, group, email string) (pg.AnswerState, error) {
	var places placesItem
	if err := st.get(ctx, roundPK(round), eventSK(group), &places); err != nil {
		return pg.AnswerState{}, fmt.Errorf("read places of %d %s: %w", round, group, err)
	}
	state := pg.AnswerState{Places: pg.Places{Capacity: places.Capacity, Going: places.Going, Waiting: places.Waiting, Answers: places.Answers}}
	if email != "" {
		current, err := st.Attendance(ctx, round, group, email)
		switch {
		case pg.KindOf(err) == pg.KindNotFound:
		case err != nil:
			return pg.AnswerState{}, fmt.Errorf("read answer: %w", err)
		default:
			state.Current = current
		}
	}
	if places.Waiting > 0 {
		all, err := st.Attendees(ctx, round, group)
		if err != nil {
			return pg.AnswerState{}, fmt.Errorf("read waiting list: %w", err)
		}
		for _, a := range all {
			if a.Status == pg.Waiting {
				state.Waiting = append(state.Waiting, a)
			}
		}
	}
	return state, nil
}

// answerItems writes a change: the event's counters, the person's answer and, when a
// place is given on, the promoted person's.
func (st *RSVPStore) answerItems(round int, group string, seen pg.Places, c pg.AnswerChange) ([]types.TransactWriteItem, error) {
	next := seen.Answers + 1
	if c.Answer.Email != "" && c.Answer.Seq != next {
		return nil, fmt.Errorf("answer of %s numbered %d, want %d", c.Answer.Email, c.Answer.Seq, next)
	}
	names := map[string]string{"#going": "going", "#waiting": "waiting", "#answers": "answers"}
	values := map[string]types.AttributeValue{":next": n(next), ":going": n(int64(c.Going)), ":waiting": n(int64(c.Waiting))}
	condition := "attribute_exists(pk) AND "
	if seen.Answers == 0 {
		condition += "attribute_not_exists(#answers)"
	} else {
		condition += "#answers = :seen"
		values[":seen"] = n(seen.Answers)
	}
	if c.Going > 0 {
		condition += " AND #going < #capacity"
		names["#capacity"] = "capacity"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(roundPK(round), eventSK(group)),
		UpdateExpression:          aws.String("SET #answers = :next ADD #going :going, #waiting :waiting"),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}}

	if a := c.Answer; a.Email != "" {
		put := &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(attendancePK(round, group)), attrSK: s(a.Email),
			"email": s(a.Email), "name": s(a.Name), "status": s(a.Status), "since": s(stamp(a.Since)), "seq": n(a.Seq),
		}}
		cond, condNames, condValues := answeredAs(c.Previous)
		put.ConditionExpression, put.ExpressionAttributeNames, put.ExpressionAttributeValues = aws.String(cond), condNames, condValues
		items = append(items, types.TransactWriteItem{Put: put})
	}

	if p := c.Promoted; p != nil {
		cond, names, values := answeredAs(*p)
		names["#since"] = "since"
		values[":going"], values[":at"], values[":next"] = s(pg.Going), s(stamp(c.At)), n(next)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(attendancePK(round, group), p.Email),
			UpdateExpression:          aws.String("SET #status = :going, #since = :at, #seq = :next"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	return items, nil
}

// answeredAs is the condition that a person's stored answer is still a (none, when its
// status is ""): the same status from the same answer.
func answeredAs(a pg.Attendance) (string, map[string]string, map[string]types.AttributeValue) {
	if a.Status == "" {
		return "attribute_not_exists(pk)", nil, nil
	}
	names := map[string]string{"#status": "status", "#seq": "seq"}
	values := map[string]types.AttributeValue{":was": s(a.Status)}
	if a.Seq == 0 { // an answer recorded before answers were numbered
		return "#status = :was AND attribute_not_exists(#seq)", names, values
	}
	values[":wasSeq"] = n(a.Seq)
	return "#status = :was AND #seq = :wasSeq", names, values
}

func hasReason(e *types.TransactionCanceledException, code string) bool {
	for _, r := range e.CancellationReasons {
		if r.Code != nil && *r.Code == code {
			return true
		}
	}
	return false
}

// pause waits before another attempt: a few milliseconds with jitter after losing to
// another answer, growing pauses with full jitter after a conflict.
func pause(ctx context.Context, attempt int, conflict bool) error {
	limit := answerPauseFirst
	if conflict {
		limit = min(answerPauseMax, answerPauseFirst<<min(attempt, 10))
	}
	return pg.Sleep(ctx, rand.N(limit)+time.Millisecond)
}

// Attend records "going" for a person, as the RSVP link does: a place while there is
// one and nobody waits, the waiting list otherwise. True when they have a place.
func (st *RSVPStore) Attend(ctx context.Context, a pg.Attendance) (bool, error) {
	c, err := st.ChangeAnswer(ctx, a.Round, a.Group, a.Email, func(state pg.AnswerState) pg.AnswerChange {
		return pg.DecideAnswer(state, a, pg.Going, a.Since)
	})
	return c.Answer.Status == pg.Going, err
}

// Withdraw records "not going" for a person, as the RSVP link does: a place they had
// goes to whoever has waited longest. What they had is read, not taken from hadPlace,
// which is kept for callers written before answers were conditional.
func (st *RSVPStore) Withdraw(ctx context.Context, a pg.Attendance, hadPlace bool) error {
	_, err := st.ChangeAnswer(ctx, a.Round, a.Group, a.Email, func(state pg.AnswerState) pg.AnswerChange {
		return pg.DecideAnswer(state, a, pg.NotGoing, a.Since)
	})
	return err
}
