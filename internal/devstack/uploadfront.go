package devstack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// UploadFront receives the browser's POST of a presigned upload form, as S3 does, in
// front of the S3 stand-in, which enforces no POST policy and does not redirect. It
// checks the policy (not its signature, which the stand-in does not check either):
// its expiry, every field against its conditions (exact values, starts-with,
// content-length-range), and that every field is named by a condition; it stores the
// file with PutObject and answers 303 to success_action_redirect with the bucket, key
// and ETag, or S3's XML error (400 or 403). Dev only: no function links it.
type UploadFront struct {
	S3  *s3.Client
	Now func() time.Time
	// MaxBody bounds what is read of a request; 0 for 60 MB.
	MaxBody int64
}

// frontError is S3's error document.
type frontError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

func (f UploadFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket := strings.Trim(r.URL.Path, "/")
	if r.Method != http.MethodPost || bucket == "" || strings.Contains(bucket, "/") {
		f.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The upload front takes a POST to /<bucket>.")
		return
	}
	limit := f.MaxBody
	if limit == 0 {
		limit = 60 << 20
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		f.fail(w, http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		return
	}
	fields := map[string]string{} // by lower-case name, as S3 reads them
	var (
		file     []byte
		filename string
		gotFile  bool
	)
	for parts := 0; parts < 50 && !gotFile; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.fail(w, http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
			return
		}
		name := strings.ToLower(p.FormName())
		if name == "file" {
			// S3 ignores whatever follows the file.
			filename = p.FileName()
			if file, err = io.ReadAll(p); err != nil {
				f.fail(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
				return
			}
			gotFile = true
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, 64<<10))
		if err != nil {
			f.fail(w, http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
			return
		}
		fields[name] = string(v)
	}
	if !gotFile {
		f.fail(w, http.StatusBadRequest, "InvalidArgument", "POST requires exactly one file upload per request.")
		return
	}
	fields["bucket"] = bucket
	fields["key"] = strings.ReplaceAll(fields["key"], "${filename}", filename)
	if status, code, msg := f.check(fields, int64(len(file))); status != 0 {
		f.fail(w, status, code, msg)
		return
	}
	out, err := f.S3.PutObject(r.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(fields["key"]),
		Body: bytes.NewReader(file), ContentLength: aws.Int64(int64(len(file))),
		ContentType: aws.String(orDefault(fields["content-type"], "binary/octet-stream")),
	})
	if err != nil {
		f.fail(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	redirect := fields["success_action_redirect"]
	if redirect == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	q := url.Values{"bucket": {bucket}, "key": {fields["key"]}, "etag": {aws.ToString(out.ETag)}}
	http.Redirect(w, r, redirect+sep+q.Encode(), http.StatusSeeOther)
}

// check applies the policy to the fields and the file's size: 0 when it passes, or
// the status, code and message S3 would answer.
func (f UploadFront) check(fields map[string]string, size int64) (int, string, string) {
	denied := func(msg string) (int, string, string) {
		return http.StatusForbidden, "AccessDenied", "Invalid according to Policy: " + msg
	}
	raw, err := base64.StdEncoding.DecodeString(fields["policy"])
	if err != nil || fields["policy"] == "" {
		return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
	}
	var policy struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
	}
	expires, err := time.Parse(time.RFC3339, policy.Expiration)
	if err != nil {
		return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '" + policy.Expiration + "'"
	}
	if !f.Now().Before(expires) {
		return denied("Policy expired.")
	}
	named := map[string]bool{"policy": true, "x-amz-signature": true, "file": true}
	for _, c := range policy.Conditions {
		var exact map[string]string
		if json.Unmarshal(c, &exact) == nil {
			for k, v := range exact {
				k = strings.ToLower(k)
				named[k] = true
				if fields[k] != v {
					return denied(fmt.Sprintf("Policy Condition failed: [\"eq\", \"$%s\", %q]", k, v))
				}
			}
			continue
		}
		var list []any
		if err := json.Unmarshal(c, &list); err != nil || len(list) != 3 {
			return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition."
		}
		op, _ := list[0].(string)
		if strings.EqualFold(op, "content-length-range") {
			lo, ok1 := list[1].(float64)
			hi, ok2 := list[2].(float64)
			if !ok1 || !ok2 {
				return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid content-length-range."
			}
			if size > int64(hi) {
				return http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
			}
			if size < int64(lo) {
				return http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
			}
			continue
		}
		field, _ := list[1].(string)
		value, _ := list[2].(string)
		field = strings.ToLower(strings.TrimPrefix(field, "$"))
		named[field] = true
		switch strings.ToLower(op) {
		case "eq":
			if fields[field] != value {
				return denied(fmt.Sprintf("Policy Condition failed: [\"eq\", \"$%s\", %q]", field, value))
			}
		case "starts-with":
			if !strings.HasPrefix(fields[field], value) {
				return denied(fmt.Sprintf("Policy Condition failed: [\"starts-with\", \"$%s\", %q]", field, value))
			}
		default:
			return http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition: " + op
		}
	}
	for name := range fields {
		if !named[name] && !strings.HasPrefix(name, "x-ignore-") {
			return denied("Extra input fields: " + name)
		}
	}
	return 0, "", ""
}

func (f UploadFront) fail(w http.ResponseWriter, status int, code, msg string) {
	body, _ := xml.Marshal(frontError{Code: code, Message: msg})
	w.Header().Set("Content-Type", mime.TypeByExtension(".xml"))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(body)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// startUploadFront serves an UploadFront before the S3 stand-in, on a free port.
func (st *Stack) startUploadFront() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("upload front: %w", err)
	}
	st.front = &http.Server{Handler: UploadFront{S3: S3Client(st.S3URL), Now: time.Now}, ReadHeaderTimeout: 10 * time.Second}
	go st.front.Serve(ln)
	st.UploadURL = "http://" + ln.Addr().String()
	return nil
}

// S3Client is a client of the S3 stand-in at endpoint.
func S3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}
