package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamHandler handles a batch of stream records, as a Lambda function on the
// table's stream does.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// FollowStream reads the table's stream from DynamoDB Local and hands each record to
// handle, one at a time, the way Lambda's event source mapping does: a record the
// handler reports as failed is delivered again (after a pause, up to 100 times). It
// returns when ctx ends.
func FollowStream(ctx context.Context, db *dynamodb.Client, streams *dynamodbstreams.Client, table string, handle StreamHandler, log *slog.Logger) error {
	return (&Follower{DB: db, Streams: streams, Table: table, Handle: handle, Log: log}).Run(ctx)
}

// Follower follows a table's stream for one handler, as one event source mapping
// does in AWS: each function has its own, so that one stuck record holds up only its
// own function. Tests wait for it with CaughtUp.
type Follower struct {
	DB      *dynamodb.Client
	Streams *dynamodbstreams.Client
	Table   string
	Handle  StreamHandler
	Log     *slog.Logger
	// RetryPause is the pause before a failed record is delivered again (5 s if 0).
	RetryPause time.Duration

	mu      sync.Mutex
	changed *sync.Cond
	started int  // polling rounds started
	idle    int  // the last round that found no record at all
	waiting bool // a failed record waits for its next delivery
	poke    chan struct{}
}

func (f *Follower) init() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = sync.NewCond(&f.mu)
		f.poke = make(chan struct{}, 1)
	}
}

// Run follows the stream until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	f.init()
	defer func() {
		f.mu.Lock()
		f.idle, f.started = 1<<62, 1<<62 // nothing more will be delivered: let waiters go
		f.changed.Broadcast()
		f.mu.Unlock()
	}()
	desc, err := f.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.Table)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", f.Table, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", f.Table)
	}
	iterators := map[string]*string{} // shard → next iterator
	done := map[string]bool{}
	last := map[string]string{} // shard → sequence number of the last record delivered
	trims := map[string]int{}   // shard → iterators refused in a row
	for ctx.Err() == nil {
		f.mu.Lock()
		f.started++
		round := f.started
		f.mu.Unlock()
		stream, err := f.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		for _, shard := range stream.StreamDescription.Shards {
			id := aws.ToString(shard.ShardId)
			if _, ok := iterators[id]; ok || done[id] {
				continue
			}
			it, err := f.iterator(ctx, arn, id, "")
			if err != nil {
				return err
			}
			iterators[id] = it
		}
		found := 0
		for id, it := range iterators {
			out, err := f.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if trimmed := (*types.TrimmedDataAccessException)(nil); errors.As(err, &trimmed) && trims[id] < 10 {
				trims[id]++
				// A DynamoDB Local bug: an iterator taken while the shard was empty may
				// be refused once records arrive, although nothing was trimmed (records
				// live 24 hours). Take one again, after the last record delivered.
				if iterators[id], err = f.iterator(ctx, arn, id, last[id]); err != nil {
					return err
				}
				found++ // poll again at once
				continue
			}
			if err != nil {
				return fmt.Errorf("get records: %w", err)
			}
			trims[id] = 0
			found += len(out.Records)
			for _, rec := range out.Records {
				f.deliver(ctx, toEvent(rec))
				if rec.Dynamodb != nil {
					last[id] = aws.ToString(rec.Dynamodb.SequenceNumber)
				}
			}
			if out.NextShardIterator == nil {
				delete(iterators, id)
				done[id] = true
			} else {
				iterators[id] = out.NextShardIterator
			}
		}
		if found > 0 {
			continue // more may follow at once, as Lambda polls while records flow
		}
		f.mu.Lock()
		f.idle = round
		f.changed.Broadcast()
		f.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-f.poke:
		case <-time.After(time.Second):
		}
	}
	return nil
}

// iterator returns a shard iterator from the shard's oldest record, or after the
// record with sequence number after when it is not "".
func (f *Follower) iterator(ctx context.Context, arn, shard, after string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	it, err := f.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("shard iterator: %w", err)
	}
	return it.ShardIterator, nil
}

// deliver hands one record to the handler until it succeeds (or gives up).
func (f *Follower) deliver(ctx context.Context, rec events.DynamoDBEventRecord) {
	pause := f.RetryPause
	if pause <= 0 {
		pause = 5 * time.Second
	}
	defer f.setWaiting(false)
	for attempt := 1; attempt <= 100 && ctx.Err() == nil; attempt++ {
		resp, err := f.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return
		}
		f.Log.InfoContext(ctx, "stream record to be delivered again", "attempt", attempt, "error", err)
		f.setWaiting(true)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		f.setWaiting(false)
	}
}

func (f *Follower) setWaiting(w bool) {
	f.mu.Lock()
	f.waiting = w
	f.changed.Broadcast()
	f.mu.Unlock()
}

// CaughtUp waits until every record written to the stream before the call has been
// delivered (a polling round that started after the call found nothing new), or until
// a failed record is waiting to be delivered again, or until timeout. It reports
// whether the follower caught up.
func (f *Follower) CaughtUp(timeout time.Duration) bool {
	f.init()
	f.mu.Lock()
	defer f.mu.Unlock()
	target := f.started + 1
	select {
	case f.poke <- struct{}{}:
	default:
	}
	expired := false
	timer := time.AfterFunc(timeout, func() {
		f.mu.Lock()
		expired = true
		f.changed.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	for f.idle < target && !f.waiting && !expired {
		f.changed.Wait()
	}
	return !expired
}

// toEvent converts a stream record to the event Lambda delivers.
func toEvent(r types.Record) events.DynamoDBEventRecord {
	ev := events.DynamoDBEventRecord{
		EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb",
		EventVersion: aws.ToString(r.EventVersion), AWSRegion: aws.ToString(r.AwsRegion),
	}
	if r.Dynamodb != nil {
		ev.Change.SequenceNumber = aws.ToString(r.Dynamodb.SequenceNumber)
		ev.Change.StreamViewType = string(r.Dynamodb.StreamViewType)
		ev.Change.Keys = toAttributes(r.Dynamodb.Keys)
		ev.Change.NewImage = toAttributes(r.Dynamodb.NewImage)
	}
	return ev
}

func toAttributes(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := map[string]events.DynamoDBAttributeValue{}
	for k, v := range m {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = events.NewStringAttribute(v.Value)
		case *types.AttributeValueMemberN:
			out[k] = events.NewNumberAttribute(v.Value)
		case *types.AttributeValueMemberBOOL:
			out[k] = events.NewBooleanAttribute(v.Value)
		}
	}
	return out
}

// StreamRecords returns every record on the table's stream so far, in each shard's
// order, as Lambda would deliver them: for tests that hand chosen records to a handler.
func StreamRecords(ctx context.Context, db *dynamodb.Client, streams *dynamodbstreams.Client, table string) ([]events.DynamoDBEventRecord, error) {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" {
		return nil, fmt.Errorf("table %s has no stream", table)
	}
	stream, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe stream: %w", err)
	}
	var out []events.DynamoDBEventRecord
	for _, shard := range stream.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, fmt.Errorf("shard iterator: %w", err)
		}
		for next := it.ShardIterator; next != nil; {
			page, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
			if err != nil {
				return nil, fmt.Errorf("get records: %w", err)
			}
			for _, rec := range page.Records {
				out = append(out, toEvent(rec))
			}
			if len(page.Records) == 0 {
				break // the open end of the shard
			}
			next = page.NextShardIterator
		}
	}
	return out, nil
}
