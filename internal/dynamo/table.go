package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// TableDefinition returns the table's keys and indexes. template.yaml declares the
// same table for AWS; a test checks that the two agree.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{str(attrPK), str(attrSK), str(attrGSI1PK), str(attrGSI1SK)},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(indexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// AuditTableName returns the name of the audit table that goes with a table: the
// table's name and "-audit" (template.yaml names it so).
func AuditTableName(table string) string { return table + "-audit" }

// AuditTableDefinition returns the audit table's keys: pk (always AUDIT) and sk (the
// time and a random suffix). It is a table of its own so that IAM can let the web
// function add entries (PutItem) and read them (Query) but never change or delete one;
// each entry carries a ttl (RETENTION_AUDIT_DAYS, six years, ahead), after which
// DynamoDB's TTL deletes it. template.yaml declares the same table.
func AuditTableDefinition(name string) *dynamodb.CreateTableInput {
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{str(attrPK), str(attrSK)},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	}
}

// CreateAuditTable creates the audit table of a table if it does not exist yet. It is
// for the local stand-in and for tests; in AWS, template.yaml creates it.
func CreateAuditTable(ctx context.Context, db *dynamodb.Client, table string) error {
	name := AuditTableName(table)
	_, err := db.CreateTable(ctx, AuditTableDefinition(name))
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create audit table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30e9); err != nil {
		return fmt.Errorf("wait for audit table %s: %w", name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("set ttl on %s: %w", name, err)
	}
	return nil
}

// TTLAttribute is the attribute DynamoDB reads expiry times from.
const TTLAttribute = attrTTL

// CreateTable creates the table with its TTL setting if it does not exist yet, with
// its stream (new images) when stream is set. It is for the local stand-in and for
// tests; in AWS, template.yaml creates the table.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string, stream bool) error {
	def := TableDefinition(name)
	if stream {
		def.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}
	}
	_, err := db.CreateTable(ctx, def)
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		if !stream {
			return nil
		}
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if out.Table.StreamSpecification != nil && aws.ToBool(out.Table.StreamSpecification.StreamEnabled) {
			return nil
		}
		_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: def.StreamSpecification})
		if err != nil {
			return fmt.Errorf("turn on the stream of %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30e9); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("set ttl on %s: %w", name, err)
	}
	return nil
}

// Seed adds the groups that are missing (an existing group is left as it is) and
// writes the councils.
func (st *Store) Seed(ctx context.Context, groups []pg.Group, councils []pg.Council) error {
	for _, g := range groups {
		if err := (&NetworkStore{Store: st}).CreateGroup(ctx, g); err != nil && pg.KindOf(err) != pg.KindConflict {
			return fmt.Errorf("seed groups: %w", err)
		}
	}
	if err := (&RegisterStore{st}).PutCouncils(ctx, councils); err != nil {
		return fmt.Errorf("seed councils: %w", err)
	}
	return nil
}
