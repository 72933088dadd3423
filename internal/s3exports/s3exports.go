// Package s3exports keeps downloads too large for a web response as objects in S3 and
// hands out short presigned links to them. A Lambda function behind API Gateway answers
// with at most 6 MB, buffered (it cannot stream), so a large file is written to the
// exports bucket and the browser is redirected to a link that fetches it.
package s3exports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LinkTTL is how long a link to an export works: long enough to start the download,
// short enough that a link copied from the address bar soon stops working.
const LinkTTL = 5 * time.Minute

// Bucket writes exports to one bucket.
type Bucket struct {
	Name string
	// ops returns the two S3 operations an export needs, as method values. The bucket
	// does not keep the clients themselves, on purpose: a Bucket is used as an
	// interface, and a client reachable from its type would make the linker keep all
	// of S3's operations in the web function, which renders templates (text/template
	// calls methods by name): megabytes, and a slower cold start.
	ops func() (putObject, presignGetObject)
}

type (
	putObject        func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	presignGetObject func(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
)

// NewClient builds the S3 client for the exports bucket from the SDK configuration
// (path-style addressing when AWS_ENDPOINT_URL_S3 points at the local stand-in).
func NewClient(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	})
}

// New returns a Bucket for a bucket name that uses client.
func New(client *s3.Client, name string) *Bucket {
	put, presign := client.PutObject, s3.NewPresignClient(client).PresignGetObject
	return &Bucket{Name: name, ops: func() (putObject, presignGetObject) { return put, presign }}
}

// Deferred returns a Bucket that builds its S3 client from cfg on its first export,
// not before: exports are rare, so the web function's cold start does not pay for
// a client that most instances never use.
func Deferred(cfg aws.Config, name string) *Bucket {
	var (
		once    sync.Once
		put     putObject
		presign presignGetObject
	)
	return &Bucket{Name: name, ops: func() (putObject, presignGetObject) {
		once.Do(func() {
			client := NewClient(cfg)
			put, presign = client.PutObject, s3.NewPresignClient(client).PresignGetObject
		})
		return put, presign
	}}
}

func (b *Bucket) Put(ctx context.Context, prefix, contentType, filename string, body []byte) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("export name: %w", err)
	}
	key := prefix + "/" + hex.EncodeToString(random) + "/" + filename
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	put, presign := b.ops()
	_, err := put(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key),
		// A seekable body: over plain HTTP (the local stand-in) the SDK can then send its
		// length and checksum without chunked encoding.
		Body:               bytes.NewReader(body),
		ContentLength:      aws.Int64(int64(len(body))),
		ContentType:        aws.String(contentType),
		ContentDisposition: aws.String(disposition),
		CacheControl:       aws.String("no-store"),
	})
	if err != nil {
		return "", fmt.Errorf("put export %s: %w", key, err)
	}
	req, err := presign(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key),
		ResponseContentType:        aws.String(contentType),
		ResponseContentDisposition: aws.String(disposition),
		ResponseCacheControl:       aws.String("no-store"),
	}, s3.WithPresignExpires(LinkTTL))
	if err != nil {
		return "", fmt.Errorf("presign export %s: %w", key, err)
	}
	return req.URL, nil
}
