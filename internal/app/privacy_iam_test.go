package app_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/testenv"
)

// callRecorder notes each request an AWS client sends: the IAM action it needs and,
// for S3, the bucket (the first element of the path: the stand-in is addressed by
// path).
type callRecorder struct {
	mu    sync.Mutex
	calls map[string]bool // "<iam action> <bucket>"
}

// iamActions are the IAM actions of the operations whose action is not named after them.
var iamActions = map[string]string{
	"s3:ListObjectsV2": "s3:ListBucket",
	"s3:HeadObject":    "s3:GetObject",
	// A transaction is authorised by the item actions it is made of, which the
	// template test of each statement checks.
	"dynamodb:TransactWriteItems": "",
	"dynamodb:TransactGetItems":   "dynamodb:GetItem",
}

func (c *callRecorder) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("TestRecordCalls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			action := strings.ToLower(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx)
			if a, ok := iamActions[action]; ok {
				action = a
			}
			bucket := ""
			if req, ok := in.Request.(*smithyhttp.Request); ok && strings.HasPrefix(action, "s3:") {
				bucket, _, _ = strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
			}
			c.mu.Lock()
			if c.calls == nil {
				c.calls = map[string]bool{}
			}
			if action != "" {
				c.calls[action+" "+bucket] = true
			}
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *callRecorder) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := slices.Sorted(func(yield func(string) bool) {
		for k := range c.calls {
			if !yield(k) {
				return
			}
		}
	})
	c.calls = nil
	return calls
}

// Everything an erasure and an export ask of DynamoDB and S3, the web function's role
// in template.yaml allows, on the resource they ask it of: the stand-ins check no
// permissions, so without this an erasure could pass every test and be refused in AWS.
func TestTheWebFunctionMayDoWhatAnExportAndAnErasureDo(t *testing.T) {
	t.Parallel()
	rec := &callRecorder{}
	admin := testenv.Address("iam-admin")
	s := newSiteWith(t, siteOptions{
		apiOptions: []func(*middleware.Stack) error{rec.middleware},
		extra:      map[string]string{"ADMIN_EMAILS": admin, "RECEIVING_BUCKET": testenv.Bucket(t, s3exports.NewClient(testenv.AWSConfig(t)))},
	})
	email := testenv.Address("iam-subject")
	manage := tokenOf(t, testenv.Link(t, s.joinAndConfirm(email).Body.Text, "/manage"))
	storeMail(t, s, email, "A question", "Notes by "+email)
	s.as(admin).download("/facilitate/midlands/members.csv")
	rec.take()

	askFor(t, s, manage, "export")
	if r := s.post("/privacy/export", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/export"))}}); r.Status != 200 {
		t.Fatalf("export: %d\n%s", r.Status, r.Body)
	}
	askFor(t, s, manage, "erase")
	if r := s.post("/privacy/erase", url.Values{"token": {tokenOf(t, testenv.Link(t, testenv.LastMail(t, email).Body.Text, "/privacy/erase"))}}); r.Status != 200 {
		t.Fatalf("erase: %d\n%s", r.Status, r.Body)
	}
	calls := rec.take()
	if !slices.Contains(calls, "s3:DeleteObject "+s.Config.ReceivingBucket) || !slices.Contains(calls, "s3:DeleteObject "+s.Config.ExportsBucket) {
		t.Fatalf("the erasure deleted nothing in the buckets: %v", calls)
	}

	statements := statementsIn(loadTemplate(t).Resources[webFunction].Properties["Policies"], webFunction+".Policies")
	for _, call := range calls {
		action, bucket, _ := strings.Cut(call, " ")
		var resource string
		switch bucket {
		case "":
			resource = "Table" // the table, not the audit table (whose writes other tests check)
		case s.Config.ReceivingBucket:
			resource = "ReceivingBucket"
		case s.Config.ExportsBucket:
			resource = "ExportsBucket"
		case s.Config.KitsBucket:
			resource = "KitsBucket"
		}
		allowed := false
		for _, st := range statements {
			named := fmt.Sprint(st.body["Resource"])
			if st.body["Effect"] == "Allow" && slices.Contains(yamlStrings(st.body["Action"]), action) &&
				(strings.Contains(named, "["+resource+" ") || strings.Contains(named, "${"+resource+".Arn}") ||
					(action == "dynamodb:PutItem" || action == "dynamodb:Query") && strings.Contains(named, "AuditTable")) {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("the web function calls %s on %s, which its role in template.yaml does not allow", action, resource)
		}
	}
}
