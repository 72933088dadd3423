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
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LinkTTL is how long a link to an export works: long enough to start the download,
// short enough that a link copied from the address bar soon stops working.
const LinkTTL = 5 * time.Minute

// Bucket writes exports to one bucket.
type Bucket struct {
	Name    string
	clients func() (*s3.Client, *s3.PresignClient)
}

// NewClient builds the S3 client for the exports bucket from the SDK configuration
// (path-style addressing when AWS_ENDPOINT_URL_S3 points at the local stand-in).
func NewClient(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	})
}

// New returns a Bucket for a bucket name that uses client.
func New(client *s3.Client, name string) *Bucket {
	presign := s3.NewPresignClient(client)
	return &Bucket{Name: name, clients: func() (*s3.Client, *s3.PresignClient) { return client, presign }}
}

// Deferred returns a Bucket that builds its S3 client from cfg on its first export,
// not before: exports are rare, so the web function's cold start does not pay for
// a client that most instances never use.
func Deferred(cfg aws.Config, name string) *Bucket {
	return &Bucket{Name: name, clients: sync.OnceValues(func() (*s3.Client, *s3.PresignClient) {
		client := NewClient(cfg)
		return client, s3.NewPresignClient(client)
	})}
}

func (b *Bucket) Put(ctx context.Context, prefix, contentType, filename string, body []byte) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("export name: %w", err)
	}
	key := prefix + "/" + hex.EncodeToString(random) + "/" + filename
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	client, presign := b.clients()
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
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
	req, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{
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
