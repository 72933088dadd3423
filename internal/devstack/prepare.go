package devstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/peergroups/peergroups/internal/councils"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Buckets are the buckets the design needs: kits, raw inbound mail, and exports (the
// default EXPORTS_BUCKET).
var Buckets = []string{"peergroups-kits", "peergroups-inbound-mail", "peergroups-exports"}

// Prepare creates the table (with its stream when stream is set), its audit table and
// the buckets if missing and seeds the starting groups and the councils. Running it
// again changes nothing that is already there.
func Prepare(ctx context.Context, db *dynamodb.Client, s3c *s3.Client, table string, stream bool) error {
	// The stream is turned on after the seed, so that it carries only the service's own
	// writes: the 400-odd seed items would be read by every stream follower, and each
	// stream record slows DynamoDB Local for everything after it.
	if err := dynamo.CreateTable(ctx, db, table, false); err != nil {
		return err
	}
	if err := dynamo.CreateAuditTable(ctx, db, table); err != nil {
		return err
	}
	if s3c != nil {
		for _, b := range Buckets {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			var owned *s3types.BucketAlreadyOwnedByYou
			var exists *s3types.BucketAlreadyExists
			if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
	}
	if err := Seed(ctx, dynamo.New(db, table)); err != nil {
		return err
	}
	if stream {
		return dynamo.CreateTable(ctx, db, table, true)
	}
	return nil
}

// Seed adds the starting groups that are missing, and the councils.
func Seed(ctx context.Context, store *dynamo.Store) error {
	list, err := councils.Load()
	if err != nil {
		return err
	}
	return store.Seed(ctx, pg.StartingGroups(), list.All())
}

// PrepareTest creates a table for one test as Prepare does (its audit table, the
// starting groups, then the stream when stream is set) without the councils: the
// service reads its councils from internal/councils, never from the table, and writing
// their 400-odd items was half of each test's set-up.
func PrepareTest(ctx context.Context, db *dynamodb.Client, table string, stream bool) error {
	if err := dynamo.CreateTable(ctx, db, table, false); err != nil {
		return err
	}
	if err := dynamo.CreateAuditTable(ctx, db, table); err != nil {
		return err
	}
	if err := dynamo.New(db, table).Seed(ctx, pg.StartingGroups(), nil); err != nil {
		return err
	}
	if stream {
		return dynamo.CreateTable(ctx, db, table, true)
	}
	return nil
}
