package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// UseUpload records the use of an upload's token (by its nonce's hash), kept until the
// token expires: a PutItem conditioned on there being none, so that a second use is
// refused with pg.ErrUploadUsed.
func (st *KitStore) UseUpload(ctx context.Context, hash string, expires time.Time) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(st.Table),
		Item: map[string]types.AttributeValue{
			attrPK: s(uploadPK(hash)), attrSK: s(skUpload),
			attrTTL: n(expires.Add(time.Hour).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return pg.ErrUploadUsed
	}
	if err != nil {
		return unavailable(fmt.Errorf("record upload %s: %w", hash, err))
	}
	return nil
}
