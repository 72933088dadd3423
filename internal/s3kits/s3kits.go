// Package s3kits keeps the documents of the rounds' kits in the private kits bucket,
// each at an address made of its content's SHA-256: kits/objects/<sha256>.json. A
// revision is never changed, so the same content is written once, and read by any
// number of kits. Beside each, kits/html/<sha256>.json holds its sections rendered as
// safe HTML by the render function.
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

// HTMLKey is where the HTML of the sections of the document with a hash is kept.
func HTMLKey(hash string) string { return "kits/html/" + hash + ".json" }

// PutKitObject stores a document at its address.
func (o *Objects) PutKitObject(ctx context.Context, hash string, body []byte) error {
	return o.put(ctx, Key(hash), body)
}

// KitObject reads a document; a KindNotFound error when there is none.
func (o *Objects) KitObject(ctx context.Context, hash string) ([]byte, error) {
	return o.get(ctx, Key(hash), "That revision of the kit cannot be found.")
}

// PutKitHTML stores the HTML of a document's sections.
func (o *Objects) PutKitHTML(ctx context.Context, hash string, body []byte) error {
	return o.put(ctx, HTMLKey(hash), body)
}

// KitHTML reads the HTML of a document's sections; a KindNotFound error when there is none.
func (o *Objects) KitHTML(ctx context.Context, hash string) ([]byte, error) {
	return o.get(ctx, HTMLKey(hash), "")
}

func (o *Objects) put(ctx context.Context, key string, body []byte) error {
	put, _ := o.ops()
	_, err := put(ctx, &s3.PutObjectInput{
		Bucket: aws.String(o.Bucket), Key: aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
	})
	if err != nil {
		return pg.Wrap(pg.KindUnavailable, fmt.Errorf("put %s: %w", key, err), "")
	}
	return nil
}

func (o *Objects) get(ctx context.Context, key, missing string) ([]byte, error) {
	_, get := o.ops()
	out, err := get(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return nil, pg.Wrap(pg.KindNotFound, fmt.Errorf("%s: %w", key, err), missing)
		}
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("get %s: %w", key, err), "")
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObject))
	if err != nil {
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("read %s: %w", key, err), "")
	}
	return b, nil
}
