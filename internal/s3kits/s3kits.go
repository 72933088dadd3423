// Package s3kits keeps the documents of the rounds' kits in the private kits bucket,
// each at an address made of its content's SHA-256: kits/objects/<sha256>.json. A
// revision is never changed, so the same content is written once, and read by any
// number of kits.
package s3kits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
)

// maxObject is the largest document read back: far above what a form can make.
const maxObject = 16 << 20

// Objects keeps kit documents in one bucket.
type Objects struct {
	Bucket string
	// ops returns the two S3 operations the kits use, as method values, not the
	// client: Objects is used as an interface (see s3exports.Bucket for why).
	ops func() (putObject, getObject)
}

type (
	putObject func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	getObject func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
)

// New returns Objects in a bucket that use client.
func New(client *s3.Client, bucket string) *Objects {
	put, get := client.PutObject, client.GetObject
	return &Objects{Bucket: bucket, ops: func() (putObject, getObject) { return put, get }}
}

// Deferred returns Objects that build their S3 client from cfg on first use, so that
// a cold start of the web function pays for no S3 client unless a kit is asked for.
func Deferred(cfg aws.Config, bucket string) *Objects {
	var (
		once sync.Once
		put  putObject
		get  getObject
	)
	return &Objects{Bucket: bucket, ops: func() (putObject, getObject) {
		once.Do(func() {
			client := s3exports.NewClient(cfg)
			put, get = client.PutObject, client.GetObject
		})
		return put, get
	}}
}

// Key is where a document with a hash is kept.
func Key(hash string) string { return "kits/objects/" + hash + ".json" }

// PutKitObject stores a document at its address.
func (o *Objects) PutKitObject(ctx context.Context, hash string, body []byte) error {
	put, _ := o.ops()
	_, err := put(ctx, &s3.PutObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(Key(hash)),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
	})
	if err != nil {
		return pg.Wrap(pg.KindUnavailable, fmt.Errorf("put kit object %s: %w", hash, err), "")
	}
	return nil
}

// KitObject reads a document; a KindNotFound error when there is none.
func (o *Objects) KitObject(ctx context.Context, hash string) ([]byte, error) {
	_, get := o.ops()
	out, err := get(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(Key(hash))})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return nil, pg.Wrap(pg.KindNotFound, fmt.Errorf("kit object %s: %w", hash, err), "That revision of the kit cannot be found.")
		}
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("get kit object %s: %w", hash, err), "")
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObject))
	if err != nil {
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("read kit object %s: %w", hash, err), "")
	}
	return b, nil
}
