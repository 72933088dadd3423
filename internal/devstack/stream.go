package devstack

import (
	"context"
	"fmt"
	"log/slog"
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
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", table, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", table)
	}
	iterators := map[string]*string{} // shard → next iterator
	done := map[string]bool{}
	for ctx.Err() == nil {
		stream, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		for _, shard := range stream.StreamDescription.Shards {
			id := aws.ToString(shard.ShardId)
			if _, ok := iterators[id]; ok || done[id] {
				continue
			}
			it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				return fmt.Errorf("shard iterator: %w", err)
			}
			iterators[id] = it.ShardIterator
		}
		for id, it := range iterators {
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return fmt.Errorf("get records: %w", err)
			}
			for _, rec := range out.Records {
				deliver(ctx, handle, toEvent(rec), log)
			}
			if out.NextShardIterator == nil {
				delete(iterators, id)
				done[id] = true
			} else {
				iterators[id] = out.NextShardIterator
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// deliver hands one record to the handler until it succeeds (or gives up).
func deliver(ctx context.Context, handle StreamHandler, rec events.DynamoDBEventRecord, log *slog.Logger) {
	for attempt := 1; attempt <= 100 && ctx.Err() == nil; attempt++ {
		resp, err := handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return
		}
		log.InfoContext(ctx, "stream record to be delivered again", "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
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
