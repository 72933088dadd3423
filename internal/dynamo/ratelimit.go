package dynamo

// Rate limits: counters updated inside the transaction of the write they guard.

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// CountRequest counts one request against the limits, with its outbox items, all or
// nothing.
func (st *RequestStore) CountRequest(ctx context.Context, limits []pg.RateLimit, out ...pg.OutboxItem) error {
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
