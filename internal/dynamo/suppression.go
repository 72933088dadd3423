package dynamo

// The service's own suppression list: addresses that no bulk mail goes to.

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Suppress puts an address on the service's own suppression list.
func (st *SuppressionStore) Suppress(ctx context.Context, email, reason string, at time.Time) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(pkSuppressed), attrSK: s(email), "reason": s(reason), "at": s(stamp(at)),
	}})
	if err != nil {
		return unavailable(fmt.Errorf("suppress: %w", err))
	}
	return nil
}

// Suppressed returns the addresses on the suppression list.
func (st *SuppressionStore) Suppressed(ctx context.Context) (map[string]bool, error) {
	var items []map[string]types.AttributeValue
	if err := st.queryPrefix(ctx, pkSuppressed, "", &items); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, it := range items {
		if v, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
			out[v.Value] = true
		}
	}
	return out, nil
}
