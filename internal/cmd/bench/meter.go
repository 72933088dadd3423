package main

import (
	"context"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"
)

// usage is what AWS bills for, as a meter counted it: DynamoDB's request units (each
// request asks for the capacity it consumed), S3's requests by price class, and SES's
// emails (a bulk call is billed per destination).
type usage struct {
	ReadUnits, WriteUnits float64
	S3Writes, S3Reads     int // PUT, COPY, POST, LIST; GET, HEAD
	Emails                int
}

func (u usage) plus(v usage) usage {
	return usage{u.ReadUnits + v.ReadUnits, u.WriteUnits + v.WriteUnits, u.S3Writes + v.S3Writes, u.S3Reads + v.S3Reads, u.Emails + v.Emails}
}

// per returns u divided by n (n at least 1).
func (u usage) per(n int) usage {
	d := float64(max(n, 1))
	return usage{u.ReadUnits / d, u.WriteUnits / d, int(float64(u.S3Writes)/d + 0.5), int(float64(u.S3Reads)/d + 0.5), int(float64(u.Emails)/d + 0.5)}
}

// meter counts the usage of the requests made by the clients it is added to (as an
// APIOption of their aws.Config).
type meter struct {
	mu sync.Mutex
	u  usage
}

func (m *meter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchMeterUsage",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askForCapacity(in.Parameters)
			out, meta, err := next.HandleInitialize(ctx, in)
			if err != nil {
				return out, meta, err
			}
			var u usage
			switch awsmiddleware.GetServiceID(ctx) {
			case "DynamoDB":
				u.ReadUnits, u.WriteUnits = consumed(out.Result)
			case "S3":
				switch awsmiddleware.GetOperationName(ctx) {
				case "GetObject", "HeadObject":
					u.S3Reads = 1
				default:
					u.S3Writes = 1
				}
			case "SESv2":
				u.Emails = emails(in.Parameters)
			}
			m.mu.Lock()
			m.u = m.u.plus(u)
			m.mu.Unlock()
			return out, meta, err
		}), middleware.After)
}

// take returns the usage so far and starts again from zero.
func (m *meter) take() usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.u
	m.u = usage{}
	return u
}

// askForCapacity makes a DynamoDB request return the capacity it consumed.
func askForCapacity(params any) {
	const total = types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed reads the read and write units a DynamoDB answer says it consumed.
func consumed(result any) (read, write float64) {
	units := func(cs ...types.ConsumedCapacity) float64 {
		n := 0.0
		for _, c := range cs {
			if c.CapacityUnits != nil {
				n += *c.CapacityUnits
			}
		}
		return n
	}
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.QueryOutput:
		return units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.BatchGetItemOutput:
		return units(out.ConsumedCapacity...), 0
	case *dynamodb.TransactGetItemsOutput:
		return units(out.ConsumedCapacity...), 0
	case *dynamodb.PutItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.UpdateItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.DeleteItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.BatchWriteItemOutput:
		return 0, units(out.ConsumedCapacity...)
	case *dynamodb.TransactWriteItemsOutput:
		return 0, units(out.ConsumedCapacity...)
	}
	return 0, 0
}

// emails is how many emails an SES request sends.
func emails(params any) int {
	switch in := params.(type) {
	case *sesv2.SendEmailInput:
		if in.Destination == nil {
			return 1
		}
		return max(1, len(in.Destination.ToAddresses)+len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses))
	case *sesv2.SendBulkEmailInput:
		return len(in.BulkEmailEntries)
	}
	return 0
}
