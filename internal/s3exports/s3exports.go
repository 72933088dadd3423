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
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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
	// purge returns the operations an erasure uses to find and delete the downloads
	// that mention a person (method values, for the same reason).
	purge func() purgeOps
}

type purgeOps struct {
	list func(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	get  func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	del  func(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

func purgeOpsOf(client *s3.Client) purgeOps {
	return purgeOps{list: client.ListObjectsV2, get: client.GetObject, del: client.DeleteObject}
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
	purge := purgeOpsOf(client)
	return &Bucket{Name: name, ops: func() (putObject, presignGetObject) { return put, presign }, purge: func() purgeOps { return purge }}
}

// Deferred returns a Bucket that builds its S3 client from cfg on its first export,
// not before: exports are rare, so the web function's cold start does not pay for
// a client that most instances never use.
func Deferred(cfg aws.Config, name string) *Bucket {
	var (
		once    sync.Once
		put     putObject
		presign presignGetObject
		purge   purgeOps
	)
	build := func() {
		client := NewClient(cfg)
		put, presign = client.PutObject, s3.NewPresignClient(client).PresignGetObject
		purge = purgeOpsOf(client)
	}
	return &Bucket{Name: name, ops: func() (putObject, presignGetObject) {
		once.Do(build)
		return put, presign
	}, purge: func() purgeOps {
		once.Do(build)
		return purge
	}}
}

// maxPurgePages bounds the listing of an erasure's purge: 1,000 keys a page, and the
// bucket keeps a day of downloads.
const maxPurgePages = 100

// DeleteMentioning deletes every object under prefix whose contents mention text
// (compared without case), and returns how many it deleted. An erasure uses it for
// the members CSVs, which list addresses and are kept a day.
func (b *Bucket) DeleteMentioning(ctx context.Context, prefix, text string) (int, error) {
	ops := b.purge()
	needle := []byte(strings.ToLower(text))
	deleted := 0
	var token *string
	for page := 0; ; page++ {
		if page >= maxPurgePages {
			return deleted, fmt.Errorf("list %s: more than %d pages", prefix, maxPurgePages)
		}
		out, err := ops.list(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix), ContinuationToken: token})
		if err != nil {
			return deleted, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range out.Contents {
			mentions, err := b.mentions(ctx, ops, aws.ToString(o.Key), needle)
			if err != nil {
				return deleted, err
			}
			if !mentions {
				continue
			}
			if _, err := ops.del(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: o.Key}); err != nil {
				return deleted, fmt.Errorf("delete %s: %w", aws.ToString(o.Key), err)
			}
			deleted++
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return deleted, nil
		}
		token = out.NextContinuationToken
	}
}

// mentions reports whether the object at key holds needle (lower case), read without
// case.
func (b *Bucket) mentions(ctx context.Context, ops purgeOps, key string, needle []byte) (bool, error) {
	obj, err := ops.get(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return false, nil // gone meanwhile (the lifecycle rule)
		}
		return false, fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	return bytes.Contains(bytes.ToLower(body), needle), nil
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
