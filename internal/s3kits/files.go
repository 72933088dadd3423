package s3kits

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
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

// Files in the kits bucket: uploads/<id>/<name> as the browser posted them (a
// lifecycle rule deletes what is left there after a day), and blobs/<sha256>, each
// file kept once at its content's address.

// BlobKey is where a file with a SHA-256 is kept.
func BlobKey(sha string) string { return "blobs/" + sha }

// Blobs keeps kits' files in one bucket.
type Blobs struct {
	Bucket string
	// UploadURL, when set, is the address the browser posts uploads to instead of
	// S3's own (locally, the dev front that enforces the POST policy as S3 does).
	UploadURL string
	ops       func() *blobOps
}

// blobOps are the S3 operations files use, as method values (see Objects for why).
type blobOps struct {
	head        func(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	get         getObject
	copy        func(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	del         func(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	presignPost func(context.Context, *s3.PutObjectInput, ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
	presignGet  func(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

func opsOf(client *s3.Client) *blobOps {
	p := s3.NewPresignClient(client)
	return &blobOps{head: client.HeadObject, get: client.GetObject, copy: client.CopyObject, del: client.DeleteObject, presignPost: p.PresignPostObject, presignGet: p.PresignGetObject}
}

// NewBlobs returns Blobs in a bucket that use client.
func NewBlobs(client *s3.Client, bucket, uploadURL string) *Blobs {
	ops := opsOf(client)
	return &Blobs{Bucket: bucket, UploadURL: uploadURL, ops: func() *blobOps { return ops }}
}

// DeferredBlobs returns Blobs that build their S3 client from cfg on first use.
func DeferredBlobs(cfg aws.Config, bucket, uploadURL string) *Blobs {
	ops := sync.OnceValue(func() *blobOps { return opsOf(s3exports.NewClient(cfg)) })
	return &Blobs{Bucket: bucket, UploadURL: uploadURL, ops: ops}
}

// UploadForm presigns the POST of one file under prefix: the key is prefix followed by
// the browser's file name (S3 fills in ${filename}), its size 1 to maxSize bytes, and
// S3 sends the browser on to redirect with 303 once it has it.
func (b *Blobs) UploadForm(ctx context.Context, prefix, redirect string, maxSize int64, ttl time.Duration) (pg.UploadForm, error) {
	req, err := b.ops().presignPost(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(prefix + "${filename}")}, func(o *s3.PresignPostOptions) {
		o.Expires = ttl
		o.Conditions = []any{
			[]any{"starts-with", "$key", prefix},
			[]any{"content-length-range", 1, maxSize},
			map[string]string{"success_action_redirect": redirect},
		}
	})
	if err != nil {
		return pg.UploadForm{}, fmt.Errorf("presign upload %s: %w", prefix, err)
	}
	action := req.URL
	if b.UploadURL != "" {
		u, err := url.Parse(req.URL)
		if err != nil {
			return pg.UploadForm{}, fmt.Errorf("presigned upload address %q: %w", req.URL, err)
		}
		action = strings.TrimRight(b.UploadURL, "/") + u.EscapedPath()
	}
	form := pg.UploadForm{URL: action, Fields: [][2]string{{"key", req.Values["key"]}, {"success_action_redirect", redirect}}}
	for _, name := range []string{"policy", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Signature"} {
		if v, ok := req.Values[name]; ok {
			form.Fields = append(form.Fields, [2]string{name, v})
		}
	}
	return form, nil
}

// InspectUpload reads an upload's size and sniffs its type.
func (b *Blobs) InspectUpload(ctx context.Context, key, name string) (pg.UploadedObject, error) {
	head, err := b.ops().head(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
	if err != nil {
		return pg.UploadedObject{}, b.fault("head", key, err)
	}
	size := aws.ToInt64(head.ContentLength)
	obj := pg.UploadedObject{Size: size}
	if size == 0 || size > pg.MaxKitFileSize {
		return obj, nil
	}
	r := &rangeReader{ctx: ctx, b: b, key: key, size: size}
	first := make([]byte, min(size, 512))
	if _, err := r.ReadAt(first, 0); err != nil {
		return obj, err
	}
	obj.Type, err = Sniff(first, r, size, name)
	return obj, err
}

// Sniff returns a file's media type from its first bytes (net/http's sniffing), and,
// for a ZIP, from the names inside it (read through r): Office Open XML documents
// have [Content_Types].xml and ppt/ or word/; OpenDocument ones a "mimetype" entry.
// Text is CSV when its name ends in .csv. "" for a ZIP of no known kind.
func Sniff(first []byte, r io.ReaderAt, size int64, name string) (string, error) {
	t, params, _ := mime.ParseMediaType(http.DetectContentType(first))
	switch {
	case t == "text/plain" && params["charset"] == "utf-8":
		if strings.EqualFold(path.Ext(name), ".csv") {
			return "text/csv", nil
		}
		return t, nil
	case t != "application/zip":
		return t, nil
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		var fault *readFault
		if errors.As(err, &fault) {
			return "", fault.err
		}
		return "", nil // not a ZIP we can read: no known type
	}
	var contentTypes, ppt, word bool
	for _, f := range zr.File {
		switch {
		case f.Name == "[Content_Types].xml":
			contentTypes = true
		case strings.HasPrefix(f.Name, "ppt/"):
			ppt = true
		case strings.HasPrefix(f.Name, "word/"):
			word = true
		case f.Name == "mimetype" && f.UncompressedSize64 < 100:
			rc, err := f.Open()
			if err != nil {
				return "", nil
			}
			b, err := io.ReadAll(io.LimitReader(rc, 100))
			rc.Close()
			if err != nil {
				var fault *readFault
				if errors.As(err, &fault) {
					return "", fault.err
				}
				return "", nil
			}
			switch m := strings.TrimSpace(string(b)); m {
			case "application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.text":
				return m, nil
			}
		}
	}
	switch {
	case contentTypes && ppt:
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation", nil
	case contentTypes && word:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", nil
	}
	return "application/zip", nil
}

// rangeReader reads an object by ranged GETs of at least 64 KB, the last one kept,
// and a bounded number of them.
type rangeReader struct {
	ctx   context.Context
	b     *Blobs
	key   string
	size  int64
	reads int
	at    int64 // where chunk starts in the object
	chunk []byte
}

// maxRangeReads bounds the GETs one sniff makes (a ZIP's directory takes a few);
// rangeChunk is the least each reads.
const (
	maxRangeReads = 32
	rangeChunk    = 64 << 10
)

// readFault is a failure to read from S3, told apart from a malformed ZIP.
type readFault struct{ err error }

func (f *readFault) Error() string { return f.err.Error() }

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(off+int64(len(p)), r.size)
	if off < r.at || want > r.at+int64(len(r.chunk)) {
		if r.reads++; r.reads > maxRangeReads {
			return 0, &readFault{pg.Errorf(pg.KindInvalid, "The selected file could not be read. Upload it again.")}
		}
		end := min(off+max(int64(len(p)), rangeChunk), r.size)
		out, err := r.b.ops().get(r.ctx, &s3.GetObjectInput{Bucket: aws.String(r.b.Bucket), Key: aws.String(r.key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1))})
		if err != nil {
			return 0, &readFault{r.b.fault("read", r.key, err)}
		}
		chunk := make([]byte, end-off)
		_, err = io.ReadFull(out.Body, chunk)
		out.Body.Close()
		if err != nil {
			return 0, &readFault{pg.Wrap(pg.KindUnavailable, fmt.Errorf("read %s at %d: %w", r.key, off, err), "")}
		}
		r.at, r.chunk = off, chunk
	}
	n := copy(p, r.chunk[off-r.at:want-r.at])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// KeepUpload hashes an upload as it streams past (memory stays flat whatever its
// size), copies it to blobs/<sha256> unless that is there already, and deletes it.
func (b *Blobs) KeepUpload(ctx context.Context, key string) (string, error) {
	ops := b.ops()
	out, err := ops.get(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", b.fault("get", key, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, io.LimitReader(out.Body, pg.MaxKitFileSize+1))
	out.Body.Close()
	if err != nil {
		return "", pg.Wrap(pg.KindUnavailable, fmt.Errorf("hash %s: %w", key, err), "")
	}
	sha := hex.EncodeToString(h.Sum(nil))
	// Without s3:ListBucket, S3 answers 403 for a missing object: copy then too (the
	// same content at the same key is the same file).
	if _, err := ops.head(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(BlobKey(sha))}); err != nil {
		_, err := ops.copy(ctx, &s3.CopyObjectInput{
			Bucket: aws.String(b.Bucket), Key: aws.String(BlobKey(sha)),
			CopySource: aws.String(b.Bucket + "/" + escapeKey(key)),
		})
		if err != nil {
			return "", b.fault("copy", key, err)
		}
	}
	return sha, b.DeleteUpload(ctx, key)
}

// escapeKey URL-encodes a key for CopySource, segment by segment ("+" too, which some
// servers read as a space).
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(url.PathEscape(p), "+", "%2B")
	}
	return strings.Join(parts, "/")
}

// DeleteUpload deletes an upload.
func (b *Blobs) DeleteUpload(ctx context.Context, key string) error {
	if !strings.HasPrefix(key, "uploads/") {
		return fmt.Errorf("delete %s: not an upload", key)
	}
	if _, err := b.ops().del(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)}); err != nil {
		return b.fault("delete", key, err)
	}
	return nil
}

// BlobLink presigns a GET of a blob that downloads it as an attachment named name.
func (b *Blobs) BlobLink(ctx context.Context, blob, name, mediaType string, ttl time.Duration) (string, error) {
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	req, err := b.ops().presignGet(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.Bucket), Key: aws.String(BlobKey(blob)),
		ResponseContentType:        aws.String(mediaType),
		ResponseContentDisposition: aws.String(disposition),
		ResponseCacheControl:       aws.String("private, no-store"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", BlobKey(blob), err)
	}
	return req.URL, nil
}

// fault wraps an S3 error: KindNotFound for a missing object.
func (b *Blobs) fault(op, key string, err error) error {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	var api smithy.APIError
	if errors.As(err, &nf) || errors.As(err, &nsk) || (errors.As(err, &api) && api.ErrorCode() == "NotFound") {
		return pg.Wrap(pg.KindNotFound, fmt.Errorf("%s %s: %w", op, key, err), "")
	}
	return pg.Wrap(pg.KindUnavailable, fmt.Errorf("%s %s: %w", op, key, err), "")
}
