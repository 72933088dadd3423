package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type expiringItem struct {
	Email     string `dynamodbav:"email"`
	ExpiresAt string `dynamodbav:"expiresAt"`
}

var errNotFound = pg.Errorf(pg.KindNotFound, "not found")

// SaveSignInLink stores a sign-in link's hash, counted against limits when there are
// any, with the outbox item of the email that carries the link.
func (st *AccessStore) SaveSignInLink(ctx context.Context, l pg.SignInLink, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	item := map[string]types.AttributeValue{
		attrPK: s(signInPK(l.TokenHash)), attrSK: s(skSignIn), attrGSI1PK: s(loginsPK(l.Email)), attrGSI1SK: s(signInPK(l.TokenHash)),
		"email": s(l.Email), "expiresAt": s(stamp(l.ExpiresAt)), attrTTL: n(l.ExpiresAt.Unix()),
	}
	items := append(rateUpdates(st.Table, limits), types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	items, err := st.withOutbox(items, out)
	if err != nil {
		return err
	}
	return st.transact(ctx, "save sign-in link", items, len(limits))
}

// SignInLink reads a sign-in link by its hash.
func (st *AccessStore) SignInLink(ctx context.Context, hash string) (pg.SignInLink, error) {
	it, err := st.getExpiring(ctx, signInPK(hash), skSignIn)
	if err != nil {
		return pg.SignInLink{}, err
	}
	return pg.SignInLink{TokenHash: hash, Email: it.Email, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// ConsumeSignInLink deletes a sign-in link and returns it; only one caller can.
func (st *AccessStore) ConsumeSignInLink(ctx context.Context, hash string) (pg.SignInLink, error) {
	out, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(st.Table),
		Key:                 key(signInPK(hash), skSignIn),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return pg.SignInLink{}, errNotFound
	}
	if err != nil {
		return pg.SignInLink{}, unavailable(fmt.Errorf("use sign-in link: %w", err))
	}
	var it expiringItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return pg.SignInLink{}, fmt.Errorf("decode sign-in link: %w", err)
	}
	return pg.SignInLink{TokenHash: hash, Email: it.Email, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// SaveSession stores a session by the hash of its ID.
func (st *AccessStore) SaveSession(ctx context.Context, ses pg.Session) error {
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
		attrPK: s(sessionPK(ses.Key)), attrSK: s(skSession), attrGSI1PK: s(loginsPK(ses.Email)), attrGSI1SK: s(sessionPK(ses.Key)),
		"email": s(ses.Email), "expiresAt": s(stamp(ses.ExpiresAt)), attrTTL: n(ses.ExpiresAt.Unix()),
	}})
	if err != nil {
		return unavailable(fmt.Errorf("save session: %w", err))
	}
	return nil
}

// Session reads a session by the hash of its ID.
func (st *AccessStore) Session(ctx context.Context, hash string) (pg.Session, error) {
	it, err := st.getExpiring(ctx, sessionPK(hash), skSession)
	if err != nil {
		return pg.Session{}, err
	}
	return pg.Session{Key: hash, Email: it.Email, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// DeleteSession ends a session.
func (st *AccessStore) DeleteSession(ctx context.Context, hash string) error {
	if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: key(sessionPK(hash), skSession)}); err != nil {
		return unavailable(fmt.Errorf("delete session: %w", err))
	}
	return nil
}

func (st *Store) getExpiring(ctx context.Context, pk, sk string) (expiringItem, error) {
	var it expiringItem
	err := st.get(ctx, pk, sk, &it)
	return it, err
}
