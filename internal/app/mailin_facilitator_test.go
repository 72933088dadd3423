package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// inboxReads counts the items DynamoDB read (ScannedCount) for the inbox's queries
// of gsi1, whatever a filter then kept.
type inboxReads struct {
	mu      sync.Mutex
	scanned int
}

func (c *inboxReads) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TestInboxReads",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			q, ok := in.Parameters.(*dynamodb.QueryInput)
			res, done := out.Result.(*dynamodb.QueryOutput)
			if ok && done && aws.ToString(q.IndexName) == "gsi1" {
				if pk, isStr := q.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS); isStr && strings.Contains(pk.Value, "INBOX#") {
					c.mu.Lock()
					c.scanned += int(res.ScannedCount)
					c.mu.Unlock()
				}
			}
			return out, md, err
		}), middleware.After)
}

func (c *inboxReads) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.scanned
	c.scanned = 0
	return n
}

// A facilitator's inbox reads their groups' conversations only: however many another
// group has, the Midlands' facilitator's list reads none of them (no status list read
// whole and filtered), and cannot open one by its address. Assigned to London, their
// conversation leaves their inbox and reaches London's facilitator's.
func TestAFacilitatorsInboxReadsOnlyTheirGroupsConversations(t *testing.T) {
	t.Parallel()
	s := newMailSite(t)
	ctx := context.Background()
	admin := pg.Caller{Email: s.admin, Admin: true}
	midFac, lonFac := testenv.Address("mid-inbox"), testenv.Address("lon-inbox")
	for group, fac := range map[string]string{"midlands": midFac, "london": lonFac} {
		if err := s.App.Services.Network.AppointFacilitator(ctx, admin, group, fac); err != nil {
			t.Fatal(err)
		}
	}
	var london []string
	for i := range 6 {
		c := s.receive(simple(testenv.Address("lon"), "London venue", "Where is it?"), "ses-lon-"+string(rune('a'+i)), "london@"+groupsDomain).Conversation
		london = append(london, c.Ref)
	}
	s.receive(simple(testenv.Address("q"), "A question", "Who runs this?"), "ses-admins-q")
	ours := s.receive(simple(testenv.Address("mid"), "Venue in Derby", "Is it step-free?"), "ses-mid-1", "midlands@"+groupsDomain).Conversation

	reads := &inboxReads{}
	dynamo.UseClient(s.App.Store, dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
		o.APIOptions = append(o.APIOptions, reads.middleware)
	}))
	f := s.as(midFac)
	reads.take()
	r := f.get("/admin/inbox")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, ours.Ref) {
		t.Fatalf("the Midlands' facilitator's inbox: %d, without their conversation\n%s", r.Status, r.Body)
	}
	if n := reads.take(); n != 1 {
		t.Errorf("listing the Midlands' inbox read %d conversations, want its 1 (London's 6 and the admins' are not to be read)", n)
	}
	for _, ref := range london {
		if strings.Contains(r.Body, ref) {
			t.Errorf("the Midlands' facilitator sees London's %s", ref)
		}
		if page := f.get("/admin/inbox/" + ref); page.Status != http.StatusNotFound || strings.Contains(page.Body, "Where is it?") {
			t.Errorf("the Midlands' facilitator opens London's %s: %d", ref, page.Status)
		}
	}
	if _, err := s.App.Services.MailInbox.Assign(ctx, admin, ours.Ref, ours.Version, "london"); err != nil {
		t.Fatal(err)
	}
	if body := f.get("/admin/inbox").Body; strings.Contains(body, ours.Ref) {
		t.Error("assigned to London, the conversation is still in the Midlands' inbox")
	}
	if body := s.as(lonFac).get("/admin/inbox").Body; !strings.Contains(body, ours.Ref) || !strings.Contains(body, london[0]) {
		t.Error("London's facilitator does not see the conversation assigned to London, or London's own")
	}
}
