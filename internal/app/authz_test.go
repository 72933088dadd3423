package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// outcome is what a caller gets from a route.
type outcome string

const (
	ok        outcome = "ok"        // the handler ran (any status but 403, 5xx or a redirect to sign in)
	signIn    outcome = "sign in"   // 303 to /sign-in
	forbidden outcome = "forbidden" // 403
)

// The callers, in the order of each row: anonymous, a member, a facilitator of another
// group (midlands), a facilitator of the group in the path (london), an admin.
var callerKinds = []string{"anonymous", "member", "facilitator of another group", "facilitator of the group", "admin"}

type row [5]outcome

var (
	public           = row{ok, ok, ok, ok, ok}
	signedIn         = row{signIn, ok, ok, ok, ok}
	anyFacilitator   = row{signIn, forbidden, ok, ok, ok}
	groupFacilitator = row{signIn, forbidden, forbidden, ok, ok}
	adminOnly        = row{signIn, forbidden, forbidden, forbidden, ok}
	// variantReaders: the group's members, every facilitator and admins (a member of
	// another group is refused).
	variantReaders = row{signIn, forbidden, ok, ok, ok}
)

// expectations is written by hand, route by route: a new route fails the test until
// someone decides who may use it.
var expectations = map[string]row{
	"GET /{$}":                          public,
	"GET /join":                         public,
	"POST /join":                        public,
	"POST /join/groups":                 public,
	"GET /join/check-email":             public,
	"GET /join/confirm":                 public,
	"POST /join/confirm":                public,
	"POST /join/resend":                 public,
	"GET /manage":                       public,
	"POST /manage/groups":               public,
	"POST /manage/leave":                public,
	"POST /manage/leave-all":            public,
	"GET /manage/link":                  public,
	"POST /manage/link":                 public,
	"GET /unsubscribe":                  public,
	"POST /unsubscribe":                 public,
	"GET /assets/":                      public,
	"GET /privacy":                      public,
	"POST /manage/export":               public,
	"POST /manage/erase":                public,
	"GET /privacy/export":               public,
	"POST /privacy/export":              public,
	"GET /privacy/erase":                public,
	"POST /privacy/erase":               public,
	"GET /councils":                     public,
	"GET /councils/sign-up":             public,
	"POST /councils/sign-up":            public,
	"GET /councils/confirm":             public,
	"POST /councils/confirm":            public,
	"GET /proposals":                    public,
	"GET /proposals/new":                public,
	"POST /proposals/new":               public,
	"GET /proposals/confirm":            public,
	"POST /proposals/confirm":           public,
	"GET /proposals/{id}":               public,
	"POST /proposals/{id}/interest":     public,
	"GET /proposals/interest/confirm":   public,
	"POST /proposals/interest/confirm":  public,
	"GET /join/invitation":              public,
	"POST /join/invitation":             public,
	"GET /rounds/{round}":               public,
	"GET /rounds/{round}/events/{file}": public,
	"GET /calendar.ics":                 public,
	"GET /rsvp":                         public,
	"POST /rsvp":                        public,
	"GET /sign-in":                      public,
	"POST /sign-in":                     public,
	"GET /sign-in/link":                 public,
	"POST /sign-in/link":                public,
	"POST /sign-out":                    signedIn,
	"GET /account":                      signedIn,

	"GET /facilitate":                                      anyFacilitator,
	"GET /facilitate/{group}":                              groupFacilitator,
	"GET /facilitate/{group}/members.csv":                  groupFacilitator,
	"POST /facilitate/{group}":                             groupFacilitator,
	"GET /facilitate/{group}/rounds/{round}":               groupFacilitator,
	"POST /facilitate/{group}/rounds/{round}":              groupFacilitator,
	"GET /facilitate/{group}/rounds/{round}/attendees.csv": groupFacilitator,

	"GET /kits/{round}":                     anyFacilitator,
	"POST /kits/{round}":                    anyFacilitator,
	"GET /kits/{round}/sections/new":        anyFacilitator,
	"POST /kits/{round}/sections":           anyFacilitator,
	"GET /kits/{round}/sections/{section}":  anyFacilitator,
	"POST /kits/{round}/sections/{section}": anyFacilitator,
	"GET /kits/{round}/history":             anyFacilitator,
	"GET /kits/{round}/agenda":              anyFacilitator,
	"POST /kits/{round}/agenda":             anyFacilitator,
	"GET /kits/{round}/run-sheet/{group}":   anyFacilitator,

	// A group's version of the kit: its members read it for participants (the member
	// here is of the Midlands, not London: kits_variants_test.go has London's member).
	"GET /kits/{round}/groups/{group}":                     variantReaders,
	"POST /kits/{round}/groups/{group}":                    groupFacilitator,
	"GET /kits/{round}/groups/{group}/sections/new":        groupFacilitator,
	"POST /kits/{round}/groups/{group}/sections":           groupFacilitator,
	"GET /kits/{round}/groups/{group}/sections/{section}":  groupFacilitator,
	"POST /kits/{round}/groups/{group}/sections/{section}": groupFacilitator,
	"GET /kits/{round}/groups/{group}/history":             anyFacilitator,
	"GET /kits/{round}/groups/{group}/merge":               groupFacilitator,
	"GET /kits/{round}/groups/{group}/download":            variantReaders,
	"POST /kits/{round}/groups/{group}/merge":              groupFacilitator,
	"POST /kits/{round}/groups/{group}/merge/abandon":      groupFacilitator,
	"GET /kits/{round}/lineage":                            adminOnly,
	"GET /kits/{round}/compare":                            anyFacilitator,
	"GET /kits/{round}/download":                           anyFacilitator,

	// The core kit as participants see it: every confirmed member of a group (their
	// announcement links to it when their group's version has accessibility errors, or
	// there is none), facilitators and admins; kits_announce_test.go has the rest.
	"GET /kits/{round}/for-participants": signedIn,

	// A group's version's agenda: its facilitators and admins.
	"GET /kits/{round}/groups/{group}/agenda":  groupFacilitator,
	"POST /kits/{round}/groups/{group}/agenda": groupFacilitator,

	"GET /kits/{round}/files/new":      anyFacilitator,
	"GET /kits/{round}/files/uploaded": anyFacilitator,
	"POST /kits/{round}/files":         anyFacilitator,
	"GET /kits/{round}/files/{file}":   anyFacilitator,

	"POST /kits/{round}/groups/{group}/sections/{section}/suggest": groupFacilitator,
	"GET /kits/{round}/suggestions":                                anyFacilitator,
	"POST /kits/{round}/suggestions/{id}/accept":                   anyFacilitator,
	"POST /kits/{round}/suggestions/{id}/decline":                  anyFacilitator,

	"GET /admin":                                     adminOnly,
	"GET /admin/groups/new":                          adminOnly,
	"POST /admin/groups":                             adminOnly,
	"GET /admin/groups/{group}":                      adminOnly,
	"POST /admin/groups/{group}":                     adminOnly,
	"POST /admin/groups/{group}/pause":               adminOnly,
	"POST /admin/groups/{group}/resume":              adminOnly,
	"POST /admin/groups/{group}/address":             adminOnly,
	"POST /admin/groups/{group}/facilitators":        adminOnly,
	"POST /admin/groups/{group}/facilitators/remove": adminOnly,
	"GET /admin/admins":                              adminOnly,
	"POST /admin/admins":                             adminOnly,
	"POST /admin/admins/remove":                      adminOnly,
	"GET /admin/audit":                               adminOnly,
	"GET /admin/privacy":                             adminOnly,
	"POST /admin/privacy/export":                     adminOnly,
	"POST /admin/privacy/erase":                      adminOnly,
	"GET /admin/rounds":                              adminOnly,
	"GET /admin/rounds/new":                          adminOnly,
	"POST /admin/rounds":                             adminOnly,
	"GET /admin/rounds/{round}":                      adminOnly,
	"POST /admin/rounds/{round}/publish":             adminOnly,
	"POST /admin/rounds/{round}/resume":              adminOnly,
	"POST /admin/rounds/{round}/close":               adminOnly,
	"GET /admin/rounds/{round}/preview/{group}":      adminOnly,
	"POST /admin/rounds/{round}/test/{group}":        adminOnly,
	"GET /admin/councils":                            adminOnly,
	"GET /admin/councils/{code}":                     adminOnly,
	"POST /admin/councils/{code}/list":               adminOnly,
	"POST /admin/councils/{code}/decline":            adminOnly,
	"POST /admin/councils/{code}/withdraw":           adminOnly,
	"GET /admin/proposals":                           adminOnly,
	"GET /admin/proposals/{id}":                      adminOnly,
	"POST /admin/proposals/{id}/list":                adminOnly,
	"POST /admin/proposals/{id}/approve":             adminOnly,
	"POST /admin/proposals/{id}/decline":             adminOnly,
	"POST /admin/proposals/{id}/invite":              adminOnly,

	// The inbox: every facilitator has one (the conversation's group decides what each
	// sees: mailin_inbox_test.go), admins see everything.
	"GET /admin/inbox":               anyFacilitator,
	"GET /admin/inbox/{ref}":         anyFacilitator,
	"POST /admin/inbox/{ref}/reply":  anyFacilitator,
	"POST /admin/inbox/{ref}/class":  anyFacilitator,
	"POST /admin/inbox/{ref}/assign": anyFacilitator,
	"POST /admin/inbox/{ref}/close":  anyFacilitator,
	// An attachment of a conversation the caller may see: a 303 to a 5-minute link.
	"GET /admin/inbox/{ref}/attachments/{file}": anyFacilitator,
}

// pathFor fills a pattern's wildcards with real values.
func pathFor(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = strings.ReplaceAll(path, "{group}", "london")
	path = strings.ReplaceAll(path, "{code}", "BIR")
	path = strings.ReplaceAll(path, "{id}", "no-such-proposal")
	path = strings.ReplaceAll(path, "{round}", "1")
	path = strings.ReplaceAll(path, "{file}", "london.ics")
	path = strings.ReplaceAll(path, "{section}", "s-1")
	path = strings.ReplaceAll(path, "{ref}", "PG-AAAAAA")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "app.css"
	}
	return method, path
}

func TestEveryRouteAllowsExactlyTheRightCallers(t *testing.T) {
	t.Parallel()
	admin := testenv.Address("authz-admin")
	s := newSite(t, map[string]string{"ADMIN_EMAILS": admin})
	ctx := context.Background()
	member := testenv.Address("authz-member")
	s.joinAndConfirm(member)
	facOther, fac := testenv.Address("authz-fac-other"), testenv.Address("authz-fac")
	system := pg.Caller{Email: admin, Admin: true}
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "midlands", facOther); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Services.Network.AppointFacilitator(ctx, system, "london", fac); err != nil {
		t.Fatal(err)
	}
	emails := []string{"", member, facOther, fac, admin}

	routes := s.App.Web.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt.Pattern] = true
		want, found := expectations[rt.Pattern]
		if !found {
			t.Errorf("route %q has no expectation: add it to the table in authz_test.go", rt.Pattern)
			continue
		}
		for i, email := range emails {
			got := s.outcomeFor(t, rt.Pattern, email)
			if got != want[i] {
				t.Errorf("%s as %s: got %s, want %s", rt.Pattern, callerKinds[i], got, want[i])
			}
		}
	}
	for pattern := range expectations {
		if !seen[pattern] {
			t.Errorf("the table expects %q, which the router does not serve", pattern)
		}
	}
}

// outcomeFor requests a route as the holder of email ("" for anonymous), with a fresh
// session each time (a route may end the session), from the service's own pages.
func (s *site) outcomeFor(t *testing.T, pattern, email string) outcome {
	t.Helper()
	method, path := pathFor(pattern)
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(""))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if email != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: s.sessionFor(t, email)})
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("%s: %v", pattern, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/sign-in":
		return signIn
	case resp.StatusCode == http.StatusForbidden:
		return forbidden
	case resp.StatusCode >= 500:
		return outcome(fmt.Sprintf("status %d", resp.StatusCode))
	default:
		return ok
	}
}

// sessionFor signs in as email and returns the session cookie's value.
func (s *site) sessionFor(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	link, err := s.App.Services.Access.IssueSignInLink(ctx, email, pg.SignInLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := s.App.Services.Access.SignIn(ctx, tokenOf(t, link))
	if err != nil {
		t.Fatal(err)
	}
	return pg.SignSession(s.App.Web.Sessions.Keys, id)
}
