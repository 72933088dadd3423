package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// oldEntry writes an audit entry as the store wrote them before it named people by
// their keyed hash: with the addresses in it, by a raw PutItem into table.
func oldEntry(t *testing.T, table string, at time.Time, suffix string, attrs map[string]string, ttl int64) map[string]types.AttributeValue {
	t.Helper()
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "AUDIT"}, "sk": &types.AttributeValueMemberS{Value: at.UTC().Format("2006-01-02T15:04:05.000000Z") + "#" + suffix},
		"at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)},
	}
	for k, v := range attrs {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	if ttl != 0 {
		item["ttl"] = &types.AttributeValueMemberN{Value: fmt.Sprint(ttl)}
	}
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("write an old audit entry into %s: %v", table, err)
	}
	return item
}

// scanTable returns every item of a table (a test may Scan; no request path does).
func scanTable(t *testing.T, table string) []map[string]types.AttributeValue {
	t.Helper()
	db := app.NewClients(testenv.AWSConfig(t)).DynamoDB
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// auditItems returns the audit entries as stored, in the audit table and the table's
// AUDIT partition, by their sort keys, and the number of items that hold an "@".
func auditItems(t *testing.T, s *site) (map[string]map[string]types.AttributeValue, int) {
	t.Helper()
	entries := map[string]map[string]types.AttributeValue{}
	addresses := 0
	for _, table := range []string{dynamo.AuditTableName(s.Table), s.Table} {
		for _, it := range scanTable(t, table) {
			if pk := it["pk"].(*types.AttributeValueMemberS).Value; pk != "AUDIT" && !strings.HasPrefix(pk, "AUDITOF#") {
				continue
			}
			b, _ := json.Marshal(it)
			if strings.Contains(string(b), "@") {
				addresses++
				t.Logf("holds an address: %s", b)
			}
			if it["pk"].(*types.AttributeValueMemberS).Value == "AUDIT" {
				entries[table+" "+it["sk"].(*types.AttributeValueMemberS).Value] = it
			}
		}
	}
	return entries, addresses
}

// migrationStore is the store the command pseudonymise-audit runs with: composed from
// the site's configuration as the command composes it from the environment.
func migrationStore(t *testing.T, s *site, opts ...func(*middleware.Stack) error) *dynamo.Store {
	t.Helper()
	keys, err := s.Config.Keyring(s.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testenv.AWSConfig(t)
	cfg.APIOptions = append(cfg.APIOptions, opts...)
	return app.TableStore(s.Config, app.NewClients(cfg), keys)
}

// Audit entries written before the store named people by their keyed hash held their
// addresses, in the audit table and, older, in the table's AUDIT partition. The operator
// command rewrites them with the store's own function and key, keeping their keys, time
// and ttl, and lists them by person; a second run changes nothing. The person's export
// then has them, an erasure leaves no address, and the admins' page lists the trail in
// order with the admins by address, as before.
func TestPseudonymisingTheAuditTrailLeavesNoAddressAndFindsEntriesByPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := testenv.Address("mig-admin")
	s := newSiteWith(t, siteOptions{noStream: true, extra: map[string]string{"ADMIN_EMAILS": admin, "PSEUDONYM_KEY": testPseudonymKey}})
	person, other := testenv.Address("mig-person"), testenv.Address("mig-other")
	audit := dynamo.AuditTableName(s.Table)
	now := s.Clock.Now()

	// Old entries: in the audit table (with a ttl), and older ones in the table.
	appointed := oldEntry(t, audit, now.Add(-time.Hour), "aaaaaaaaaaaa", map[string]string{
		"actor": admin, "action": "appoint facilitator", "target": "london " + person,
		"before": `{"facilitators":[]}`, "after": `{"facilitators":["` + strings.ToUpper(person) + `"]}`, "note": "asked by " + person,
	}, now.Add(6*365*24*time.Hour).Unix())
	joined := oldEntry(t, s.Table, now.Add(-48*time.Hour), "bbbbbbbbbbbb", map[string]string{
		"actor": person, "action": "legacy join", "target": "london", "after": `{"invitedBy":"` + other + `"}`,
	}, 0)
	oldEntry(t, s.Table, now.Add(-72*time.Hour), "cccccccccccc", map[string]string{"actor": admin, "action": "legacy pause", "target": "london"}, 0)
	// An entry the store writes now, about the admin: already pseudonymous.
	if err := s.App.Services.Network.SetPaused(ctx, pg.Caller{Email: admin, Admin: true}, "london", true); err != nil {
		t.Fatal(err)
	}
	before, addresses := auditItems(t, s)
	if addresses != 3 || len(before) != 4 {
		t.Fatalf("before: %d entries, %d with addresses; want 4 and the 3 old ones", len(before), addresses)
	}
	var storeWritten map[string]types.AttributeValue
	for k, it := range before {
		if strings.HasPrefix(k, audit+" ") && it["action"].(*types.AttributeValueMemberS).Value == "pause group" {
			storeWritten = it
		}
	}
	if storeWritten == nil {
		t.Fatalf("no entry of the store's among %v", before)
	}

	st := migrationStore(t, s)
	first, err := st.PseudonymiseAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Pointers: the appointment names the admin and the person, the join the person and
	// the other, the pause the admin; the store's entry has its pointer already.
	if want := (dynamo.AuditMigration{Entries: 4, Rewritten: 3, Pointers: 5}); first != want {
		t.Errorf("first run: %+v, want %+v", first, want)
	}
	after, addresses := auditItems(t, s)
	if addresses != 0 {
		t.Errorf("after the migration %d audit items still hold an address", addresses)
	}
	if !reflect.DeepEqual(slicesOfKeys(after), slicesOfKeys(before)) {
		t.Errorf("the entries' keys changed: %v, then %v", slicesOfKeys(before), slicesOfKeys(after))
	}
	pseudonym := func(email string) string { return pg.MailOutTarget(s.App.Services.Memberships.Pseudonym, email) }
	got := after[audit+" "+appointed["sk"].(*types.AttributeValueMemberS).Value]
	for name, want := range map[string]string{
		"actor": pseudonym(admin), "action": "appoint facilitator", "target": "london " + pseudonym(person),
		"before": `{"facilitators":[]}`, "after": `{"facilitators":["` + pseudonym(person) + `"]}`, "note": "asked by " + pseudonym(person),
		"at": appointed["at"].(*types.AttributeValueMemberS).Value,
	} {
		if v, _ := got[name].(*types.AttributeValueMemberS); v == nil || v.Value != want {
			t.Errorf("the appointment's %s after the migration: %v, want %q", name, got[name], want)
		}
	}
	if !reflect.DeepEqual(got["ttl"], appointed["ttl"]) {
		t.Errorf("the appointment's ttl: %v, want %v as it was", got["ttl"], appointed["ttl"])
	}
	if got := after[s.Table+" "+joined["sk"].(*types.AttributeValueMemberS).Value]; got["ttl"] != nil || got["actor"].(*types.AttributeValueMemberS).Value != pseudonym(person) {
		t.Errorf("the old join in the table: %v", got)
	}
	if got := after[audit+" "+storeWritten["sk"].(*types.AttributeValueMemberS).Value]; !reflect.DeepEqual(got, storeWritten) {
		t.Errorf("the store's entry changed: %v, was %v", got, storeWritten)
	}

	second, err := st.PseudonymiseAudit(ctx, 100)
	if want := (dynamo.AuditMigration{Entries: 4}); err != nil || second != want {
		t.Errorf("second run: %+v, %v; want %+v (nothing written)", second, err, want)
	}
	if again, _ := auditItems(t, s); !reflect.DeepEqual(again, after) {
		t.Error("the second run changed entries")
	}

	// The person's export has the entries that name them, found by their pointers.
	data, err := s.App.Stores.Privacy.PersonData(ctx, person, s.App.Web.Privacy.AddressHash(person))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range data.Audit {
		actions = append(actions, fmt.Sprint(a["action"]))
	}
	if strings.Join(actions, ",") != "appoint facilitator,legacy join" {
		t.Errorf("the export's audit entries: %v, want the appointment and the old join", actions)
	}

	// The admins' page lists the trail newest first, across both places, with the
	// admin by address and the others by pseudonym.
	trail := auditTrail(t, s, admin)
	var shown []string
	for _, e := range trail {
		shown = append(shown, e.Action+" by "+e.Actor)
	}
	if want := []string{"pause group by " + admin, "appoint facilitator by " + admin, "legacy join by " + pseudonym(person), "legacy pause by " + admin}; !reflect.DeepEqual(shown, want) {
		t.Errorf("the audit page lists %q, want %q", shown, want)
	}
	if trail[1].Target != "london "+pseudonym(person) {
		t.Errorf("the appointment's target on the page: %q", trail[1].Target)
	}

	// Erasing the person leaves their address nowhere; the entries stay, pseudonymous.
	if err := s.App.Web.Privacy.AdminErase(ctx, pg.Caller{Email: admin, Admin: true}, person); err != nil {
		t.Fatal(err)
	}
	if left := remains(t, s, person); len(left) != 0 {
		t.Errorf("after the erasure the tables still mention the address: %v", left)
	}
	if kept, addresses := auditItems(t, s); len(kept) != 5 || addresses != 0 {
		t.Errorf("after the erasure: %d entries (want the 4 and the erasure's), %d with an address", len(kept), addresses)
	}
}

func slicesOfKeys(m map[string]map[string]types.AttributeValue) []string {
	return slices.Sorted(maps.Keys(m))
}

// trailReads counts what the web function's DynamoDB client reads of the audit trail:
// the items each Query of the audit table or of an AUDIT partition read (ScannedCount,
// whatever a filter kept), and the keys BatchGetItem asked of the audit table.
type trailReads struct {
	mu          sync.Mutex
	audit       string
	scanned     int
	keys        int
	wholeTrail  int // Queries of the trail's own partition, pk = AUDIT
	pointerRuns int // Queries of a person's pointers
}

func (c *trailReads) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TestTrailReads",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			c.mu.Lock()
			defer c.mu.Unlock()
			switch q := in.Parameters.(type) {
			case *dynamodb.QueryInput:
				pk, _ := q.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS)
				res, _ := out.Result.(*dynamodb.QueryOutput)
				if pk == nil || res == nil {
					break
				}
				if pk.Value == "AUDIT" {
					c.wholeTrail++
				}
				if pk.Value == "AUDIT" || aws.ToString(q.TableName) == c.audit {
					c.scanned += int(res.ScannedCount)
				}
				if strings.HasPrefix(pk.Value, "AUDITOF#") {
					c.pointerRuns++
				}
			case *dynamodb.BatchGetItemInput:
				c.keys += len(q.RequestItems[c.audit].Keys)
			}
			return out, md, err
		}), middleware.After)
}

// An export reads the person's pointers and the entries they point to, not the trail:
// however many entries name others, it reads only theirs.
func TestAnExportReadsOnlyThePersonsAuditEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := &trailReads{}
	s := newSiteWith(t, siteOptions{noStream: true, apiOptions: []func(*middleware.Stack) error{reads.middleware}, extra: map[string]string{"PSEUDONYM_KEY": testPseudonymKey}})
	reads.audit = dynamo.AuditTableName(s.Table)
	person := testenv.Address("reads-person")
	now := s.Clock.Now()
	for i := range 40 {
		table := s.Table
		if i%2 == 0 {
			table = reads.audit
		}
		oldEntry(t, table, now.Add(-time.Duration(i+1)*time.Minute), fmt.Sprintf("%012d", i), map[string]string{
			"actor": testenv.Address(fmt.Sprintf("reads-other%d", i)), "action": "legacy action", "target": "london",
		}, 0)
	}
	oldEntry(t, reads.audit, now.Add(-time.Second), "person000001", map[string]string{"actor": person, "action": "legacy leave", "target": "london"}, 0)
	oldEntry(t, s.Table, now.Add(-time.Hour), "person000002", map[string]string{"actor": "mail-out", "action": "legacy send", "target": person}, 0)
	if _, err := migrationStore(t, s).PseudonymiseAudit(ctx, 100); err != nil {
		t.Fatal(err)
	}

	reads.mu.Lock()
	reads.scanned, reads.keys, reads.wholeTrail, reads.pointerRuns = 0, 0, 0, 0
	reads.mu.Unlock()
	data, err := s.App.Stores.Privacy.PersonData(ctx, person, s.App.Web.Privacy.AddressHash(person))
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Audit) != 2 {
		t.Errorf("the export has %d audit entries, want their 2: %v", len(data.Audit), data.Audit)
	}
	reads.mu.Lock()
	defer reads.mu.Unlock()
	if reads.wholeTrail != 0 || reads.pointerRuns == 0 {
		t.Errorf("the export queried the trail's partition %d times and the person's pointers %d times; want none and their pointers", reads.wholeTrail, reads.pointerRuns)
	}
	// Their 2 pointers, and the 1 of their entries in the audit table (the other is in the table).
	if reads.scanned != 2 || reads.keys != 1 {
		t.Errorf("the export read %d items of the trail by Query and asked for %d entries of the audit table by key; want their 2 pointers and their 1 entry there", reads.scanned, reads.keys)
	}
}

// tableCalls notes each DynamoDB item action the web function's client asks, and of
// which table: a transaction as the item actions it is made of.
type tableCalls struct {
	mu    sync.Mutex
	calls map[[2]string]bool // action, table
}

func (c *tableCalls) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TestTableCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.calls == nil {
				c.calls = map[[2]string]bool{}
			}
			note := func(action string, table *string) {
				c.calls[[2]string{"dynamodb:" + action, aws.ToString(table)}] = true
			}
			switch p := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				note("GetItem", p.TableName)
			case *dynamodb.QueryInput:
				note("Query", p.TableName)
			case *dynamodb.PutItemInput:
				note("PutItem", p.TableName)
			case *dynamodb.UpdateItemInput:
				note("UpdateItem", p.TableName)
			case *dynamodb.DeleteItemInput:
				note("DeleteItem", p.TableName)
			case *dynamodb.BatchGetItemInput:
				for table := range p.RequestItems {
					note("BatchGetItem", &table)
				}
			case *dynamodb.BatchWriteItemInput:
				for table := range p.RequestItems {
					note("BatchWriteItem", &table)
				}
			case *dynamodb.TransactWriteItemsInput:
				for _, it := range p.TransactItems {
					switch {
					case it.Put != nil:
						note("PutItem", it.Put.TableName)
					case it.Update != nil:
						note("UpdateItem", it.Update.TableName)
					case it.Delete != nil:
						note("DeleteItem", it.Delete.TableName)
					case it.ConditionCheck != nil:
						note("ConditionCheckItem", it.ConditionCheck.TableName)
					}
				}
			}
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// What an export and an erasure ask of the audit table (Query of the person's pointers,
// BatchGetItem of their entries, the erasure's entry and its pointers) and of the
// table, the web function's role in template.yaml allows on that table: the stand-in
// checks no permissions.
func TestTheWebFunctionMayReadAPersonsAuditEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	calls := &tableCalls{}
	admin := testenv.Address("iam-audit-admin")
	s := newSiteWith(t, siteOptions{noStream: true, apiOptions: []func(*middleware.Stack) error{calls.middleware}, extra: map[string]string{"ADMIN_EMAILS": admin, "PSEUDONYM_KEY": testPseudonymKey}})
	person := testenv.Address("iam-audit-person")
	network := s.App.Services.Network
	if err := network.AppointFacilitator(ctx, pg.Caller{Email: admin, Admin: true}, "london", person); err != nil {
		t.Fatal(err)
	}
	calls.mu.Lock()
	calls.calls = nil
	calls.mu.Unlock()
	if _, err := s.App.Web.Privacy.AdminExport(ctx, pg.Caller{Email: admin, Admin: true}, person); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Web.Privacy.AdminErase(ctx, pg.Caller{Email: admin, Admin: true}, person); err != nil {
		t.Fatal(err)
	}

	statements := statementsIn(loadTemplate(t).Resources[webFunction].Properties["Policies"], webFunction+".Policies")
	audit := dynamo.AuditTableName(s.Table)
	calls.mu.Lock()
	defer calls.mu.Unlock()
	if !calls.calls[[2]string{"dynamodb:BatchGetItem", audit}] || !calls.calls[[2]string{"dynamodb:Query", audit}] {
		t.Errorf("the export read no entries of the audit table by their pointers: %v", calls.calls)
	}
	for call := range calls.calls {
		action, table := call[0], call[1]
		resource := "Table"
		if table == audit {
			resource = "AuditTable"
		}
		allowed := false
		for _, st := range statements {
			named := fmt.Sprint(st.body["Resource"])
			if st.body["Effect"] == "Allow" && slices.Contains(yamlStrings(st.body["Action"]), action) &&
				(strings.Contains(named, "["+resource+" ") || strings.Contains(named, "${"+resource+".Arn}")) {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("an export or erasure calls %s on %s, which the web function's role in template.yaml does not allow", action, resource)
		}
	}
}
