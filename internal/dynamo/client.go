package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Client is the DynamoDB operations the store uses, each a method value of one
// *dynamodb.Client: one client, built once per process, as before.
//
// The store holds these rather than the *dynamodb.Client so that a function's binary
// links only these operations. The store is used through interfaces, and the page and
// email templates call methods by name through reflection; with both, the linker keeps
// every exported method of every type an interface value can reach, which for a
// *dynamodb.Client is all of DynamoDB's 60-odd operations and their serialisers:
// megabytes that every cold start maps and the runtime walks (itabs, the function
// table) without ever calling. A method value's type names no client, so nothing
// reaches it. To use another operation, add it here.
type Client struct {
	batchGetItem       func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	batchWriteItem     func(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	deleteItem         func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	getItem            func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	putItem            func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	query              func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	transactWriteItems func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	updateItem         func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// NewClient returns the operations of db.
func NewClient(db *dynamodb.Client) Client {
	return Client{
		batchGetItem:       db.BatchGetItem,
		batchWriteItem:     db.BatchWriteItem,
		deleteItem:         db.DeleteItem,
		getItem:            db.GetItem,
		putItem:            db.PutItem,
		query:              db.Query,
		transactWriteItems: db.TransactWriteItems,
		updateItem:         db.UpdateItem,
	}
}

func (c Client) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return c.batchGetItem(ctx, in, opts...)
}

func (c Client) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return c.batchWriteItem(ctx, in, opts...)
}

func (c Client) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return c.deleteItem(ctx, in, opts...)
}

func (c Client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return c.getItem(ctx, in, opts...)
}

func (c Client) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return c.putItem(ctx, in, opts...)
}

// Query also makes Client a dynamodb.QueryAPIClient, for the paginators.
func (c Client) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return c.query(ctx, in, opts...)
}

func (c Client) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return c.transactWriteItems(ctx, in, opts...)
}

func (c Client) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return c.updateItem(ctx, in, opts...)
}
