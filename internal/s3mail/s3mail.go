// Package s3mail reads the raw messages SES receiving stored in the receiving bucket,
// and (locally) stores the ones the SMTP listener receives under the same keys.
package s3mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/peergroups/peergroups/internal/mailin"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Bucket is the receiving bucket.
type Bucket struct {
	Name string
	get  func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	put  func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// New returns the bucket called name, through client.
func New(client *s3.Client, name string) *Bucket {
	return &Bucket{Name: name, get: client.GetObject, put: client.PutObject}
}

// RawMessage reads a stored message, at most mailin.MaxMessage bytes of it.
func (b *Bucket) RawMessage(ctx context.Context, key string) ([]byte, error) {
	out, err := b.get(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return nil, pg.Wrap(pg.KindNotFound, fmt.Errorf("raw message %s: %w", key, err), "")
		}
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("get raw message %s: %w", key, err), "")
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, mailin.MaxMessage+1))
	if err != nil {
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("read raw message %s: %w", key, err), "")
	}
	return raw, nil
}

// PutRawMessage stores a message as SES's S3 action does (the local listener).
func (b *Bucket) PutRawMessage(ctx context.Context, key string, raw []byte) error {
	_, err := b.put(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(raw), ContentLength: aws.Int64(int64(len(raw)))})
	if err != nil {
		return fmt.Errorf("put raw message %s: %w", key, err)
	}
	return nil
}
