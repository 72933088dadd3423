// Package s3mail reads the raw messages SES receiving stored in the receiving bucket,
// (locally) stores the ones the SMTP listener receives under the same keys, stores the
// attachments the inbound function takes out of them, and hands the console short
// links to those. It does not link the MIME parser: the web function uses it.
package s3mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
)

// MaxRaw is the most of a stored message that is read: SES receives no message over
// 40 MB (mailin.MaxMessage), so one byte more says it is over.
const MaxRaw = 40 << 20

// Bucket is the receiving bucket.
type Bucket struct {
	Name string
	ops  func() ops
}

type ops struct {
	get     func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	put     func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	presign func(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	del     func(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

func opsOf(client *s3.Client) ops {
	return ops{get: client.GetObject, put: client.PutObject, presign: s3.NewPresignClient(client).PresignGetObject, del: client.DeleteObject}
}

// New returns the bucket called name, through client.
func New(client *s3.Client, name string) *Bucket {
	o := opsOf(client)
	return &Bucket{Name: name, ops: func() ops { return o }}
}

// Deferred returns the bucket called name, whose S3 client is built from cfg when it
// is first used (the web function: attachments are downloaded rarely).
func Deferred(cfg aws.Config, name string) *Bucket {
	return &Bucket{Name: name, ops: sync.OnceValue(func() ops { return opsOf(s3exports.NewClient(cfg)) })}
}

// RawMessage reads a stored message, at most MaxRaw bytes of it (and one more, to
// tell that it is over).
func (b *Bucket) RawMessage(ctx context.Context, key string) ([]byte, error) {
	out, err := b.ops().get(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return nil, pg.Wrap(pg.KindNotFound, fmt.Errorf("raw message %s: %w", key, err), "")
		}
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("get raw message %s: %w", key, err), "")
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, MaxRaw+1))
	if err != nil {
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("read raw message %s: %w", key, err), "")
	}
	return raw, nil
}

// PutRawMessage stores a message as SES's S3 action does (the local listener).
func (b *Bucket) PutRawMessage(ctx context.Context, key string, raw []byte) error {
	_, err := b.ops().put(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(raw), ContentLength: aws.Int64(int64(len(raw)))})
	if err != nil {
		return fmt.Errorf("put raw message %s: %w", key, err)
	}
	return nil
}

// PutAttachment stores an attachment taken out of a message, as bytes of no declared
// type: what it is, the sender said, and the sender may lie.
func (b *Bucket) PutAttachment(ctx context.Context, key string, body []byte) error {
	_, err := b.ops().put(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return pg.Wrap(pg.KindUnavailable, fmt.Errorf("put attachment %s: %w", key, err), "")
	}
	return nil
}

// AttachmentLink presigns a GET of a stored attachment that the browser saves as name
// (Content-Disposition: attachment; never shown inline, whatever its type).
func (b *Bucket) AttachmentLink(ctx context.Context, key, name string, ttl time.Duration) (string, error) {
	req, err := b.ops().presign(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key),
		ResponseContentType:        aws.String("application/octet-stream"),
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name})),
		ResponseCacheControl:       aws.String("private, no-store"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign attachment %s: %w", key, err)
	}
	return req.URL, nil
}

// DeleteMailObjects deletes stored messages and attachments (an erasure): one
// DeleteObject each, which succeeds for a key already gone.
func (b *Bucket) DeleteMailObjects(ctx context.Context, keys []string) error {
	for _, key := range keys {
		if _, err := b.ops().del(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)}); err != nil {
			return pg.Wrap(pg.KindUnavailable, fmt.Errorf("delete %s: %w", key, err), "")
		}
	}
	return nil
}
