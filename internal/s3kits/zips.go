package s3kits

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
	smithy "github.com/aws/smithy-go"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
)

// Kits' zips in the kits bucket: kits/zips/<sha256>.zip, named after everything in
// the zip, made once and fetched by presigned GETs; a lifecycle rule deletes each a
// few days after it was made. A zip is written as it is made, in parts of PartSize
// (a multipart upload), so that memory stays flat however big the kit's files are.

// ZipKey is where the zip with a key is kept.
func ZipKey(key string) string { return "kits/zips/" + key + ".zip" }

// PartSize is the size of each part of a zip's upload: S3's least (but for the last).
const PartSize = 5 << 20

// maxParts is S3's most parts of an upload.
const maxParts = 10000

// Zips keeps kits' zips in one bucket, and reads kits' files for them.
type Zips struct {
	Bucket string
	ops    func() *zipOps
}

// zipOps are the S3 operations zips use, as method values (see Objects for why).
type zipOps struct {
	head       func(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	get        getObject
	put        putObject
	create     func(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	part       func(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	complete   func(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	abort      func(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	presignGet func(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

func zipOpsOf(client *s3.Client) *zipOps {
	p := s3.NewPresignClient(client)
	return &zipOps{
		head: client.HeadObject, get: client.GetObject, put: client.PutObject,
		create: client.CreateMultipartUpload, part: client.UploadPart,
		complete: client.CompleteMultipartUpload, abort: client.AbortMultipartUpload,
		presignGet: p.PresignGetObject,
	}
}

// NewZips returns Zips in a bucket that use client.
func NewZips(client *s3.Client, bucket string) *Zips {
	ops := zipOpsOf(client)
	return &Zips{Bucket: bucket, ops: func() *zipOps { return ops }}
}

// DeferredZips returns Zips that build their S3 client from cfg on first use.
func DeferredZips(cfg aws.Config, bucket string) *Zips {
	return &Zips{Bucket: bucket, ops: sync.OnceValue(func() *zipOps { return zipOpsOf(s3exports.NewClient(cfg)) })}
}

// HasZip reports whether a zip has been made.
func (z *Zips) HasZip(ctx context.Context, key string) (bool, error) {
	return z.has(ctx, ZipKey(key))
}

// HasBlob reports whether a file's content is there.
func (z *Zips) HasBlob(ctx context.Context, blob string) (bool, error) {
	return z.has(ctx, BlobKey(blob))
}

// has heads an object. Without s3:ListBucket (which the web function is not given)
// S3 answers 403, not 404, for an object that is not there; the role may read every
// key it asks about here, so 403 means missing too.
func (z *Zips) has(ctx context.Context, key string) (bool, error) {
	_, err := z.ops().head(ctx, &s3.HeadObjectInput{Bucket: aws.String(z.Bucket), Key: aws.String(key)})
	if err == nil {
		return true, nil
	}
	if missing(err) {
		return false, nil
	}
	return false, pg.Wrap(pg.KindUnavailable, fmt.Errorf("head %s: %w", key, err), "")
}

// missing reports whether an S3 error says the object is not there (or, without
// s3:ListBucket, that it may not be listed: 403).
func missing(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	var api smithy.APIError
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NotFound", "NoSuchKey", "Forbidden", "AccessDenied":
			return true
		}
	}
	return false
}

// OpenBlob opens a file's content to read it as it streams.
func (z *Zips) OpenBlob(ctx context.Context, blob string) (io.ReadCloser, error) {
	key := BlobKey(blob)
	out, err := z.ops().get(ctx, &s3.GetObjectInput{Bucket: aws.String(z.Bucket), Key: aws.String(key)})
	if err != nil {
		if missing(err) {
			return nil, pg.Wrap(pg.KindNotFound, fmt.Errorf("get %s: %w", key, err), "")
		}
		return nil, pg.Wrap(pg.KindUnavailable, fmt.Errorf("get %s: %w", key, err), "")
	}
	return out.Body, nil
}

// ZipLink presigns a GET of a zip that downloads it as an attachment named name.
func (z *Zips) ZipLink(ctx context.Context, key, name string, ttl time.Duration) (string, error) {
	req, err := z.ops().presignGet(ctx, &s3.GetObjectInput{
		Bucket: aws.String(z.Bucket), Key: aws.String(ZipKey(key)),
		ResponseContentType:        aws.String("application/zip"),
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name})),
		ResponseCacheControl:       aws.String("private, no-store"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", ZipKey(key), err)
	}
	return req.URL, nil
}

// PutZip keeps what write writes at the zip's key: in one PUT when it is smaller than
// a part, else part by part as it is written (memory holds one part). When write or
// an upload fails, the multipart upload is aborted and nothing is kept.
func (z *Zips) PutZip(ctx context.Context, key string, write func(io.Writer) error) (err error) {
	w := &partWriter{ctx: ctx, z: z, key: ZipKey(key), buf: make([]byte, 0, PartSize)}
	defer func() {
		if err != nil && w.upload != "" {
			// A fresh context: the request's may be what failed.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, aerr := z.ops().abort(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(z.Bucket), Key: aws.String(w.key), UploadId: aws.String(w.upload)}); aerr != nil {
				// The bucket's lifecycle rule aborts it after a few days.
				err = errors.Join(err, fmt.Errorf("abort upload of %s: %w", w.key, aerr))
			}
		}
	}()
	if err := write(w); err != nil {
		return err
	}
	return w.close()
}

// partWriter uploads what is written to it in parts of PartSize.
type partWriter struct {
	ctx    context.Context
	z      *Zips
	key    string
	buf    []byte
	upload string // the multipart upload's ID, once started
	parts  []types.CompletedPart
}

func (w *partWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush uploads the buffer as the next part, starting the upload at the first.
func (w *partWriter) flush() error {
	ops := w.z.ops()
	if w.upload == "" {
		out, err := ops.create(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(w.z.Bucket), Key: aws.String(w.key),
			ContentType:       aws.String("application/zip"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("start upload of %s: %w", w.key, err)
		}
		w.upload = aws.ToString(out.UploadId)
	}
	number := int32(len(w.parts) + 1)
	if number > maxParts {
		return fmt.Errorf("upload of %s: more than %d parts", w.key, maxParts)
	}
	out, err := ops.part(w.ctx, &s3.UploadPartInput{
		Bucket: aws.String(w.z.Bucket), Key: aws.String(w.key), UploadId: aws.String(w.upload),
		PartNumber: aws.Int32(number), Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("upload part %d of %s: %w", number, w.key, err)
	}
	w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(number), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	w.buf = w.buf[:0]
	return nil
}

// close finishes the upload: one PUT when nothing has been uploaded yet.
func (w *partWriter) close() error {
	ops := w.z.ops()
	if w.upload == "" {
		_, err := ops.put(w.ctx, &s3.PutObjectInput{
			Bucket: aws.String(w.z.Bucket), Key: aws.String(w.key),
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
			ContentType: aws.String("application/zip"),
		})
		if err != nil {
			return fmt.Errorf("put %s: %w", w.key, err)
		}
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	_, err := ops.complete(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.z.Bucket), Key: aws.String(w.key), UploadId: aws.String(w.upload),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		return fmt.Errorf("finish upload of %s: %w", w.key, err)
	}
	return nil
}
