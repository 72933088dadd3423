package app_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/website"
)

// A function's cold start is the time from its process starting to its first request
// for work; `make bench` measures it against a peer that only builds the SDK clients
// (coldstart.<fn>.peer_ratio). A test cannot time it on a busy machine, so these hold
// the work that time stands for, the memory allocated before the first request, to a
// budget: whatever only some requests need is built when they first need it.

// initBudget is the most one of our packages may allocate while it is initialised:
// enough to load a time zone (about 9 KB, 13 KB under the race detector), not to
// compile regular expressions or build tables.
const initBudget = 16 << 10

func TestOurPackagesDoLittleAtInit(t *testing.T) {
	t.Parallel()
	if os.Getenv("PEERGROUPS_INITTRACE") == "1" {
		t.Skip("the child run") // never reached: the child runs no test
	}
	// Run this test binary again, running no test, with the runtime tracing each
	// package's initialisation.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "PEERGROUPS_INITTRACE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %s: %v\n%s", os.Args[0], err, out.String())
	}
	line := regexp.MustCompile(`^init (\S+) @.* clock, (\d+) bytes, (\d+) allocs`)
	seen := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil || !strings.HasPrefix(m[1], "github.com/peergroups/peergroups/") || testOnly(m[1]) {
			continue // not ours, or not in a function
		}
		seen++
		if n, _ := strconv.Atoi(m[2]); n > initBudget {
			t.Errorf("%s allocates %d bytes (%s allocations) at init, over the budget of %d: make what only some requests need lazy (sync.OnceValue) in the package that owns it", m[1], n, m[3], initBudget)
		}
	}
	if seen == 0 {
		t.Fatalf("no init trace of our packages in:\n%s", out.String())
	}
}

// testOnly reports whether a package of ours is not in any function: this package
// (traced with its tests) and the test and local helpers.
func testOnly(pkg string) bool {
	for _, p := range []string{"internal/app", "internal/testenv", "internal/devstack", "internal/cmd/"} {
		if strings.HasPrefix(pkg, "github.com/peergroups/peergroups/"+p) {
			return true
		}
	}
	return false
}

// composeBudget is the most composing the web function (site.New and its handler) may
// allocate, before its first request. Registering every route on one ServeMux and
// indexing the councils, as it once did, cost 100 to 160 KB.
const composeBudget = 64 << 10

func TestComposingTheWebFunctionBuildsOnlyWhatItsFirstRequestNeeds(t *testing.T) {
	// Not parallel: it counts what the whole process allocates.
	env := map[string]string{"LINK_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)), "BASE_URL": "https://peergroups.example.org"}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Building clients sends nothing: no stand-ins needed.
	clients := app.NewClients(aws.Config{Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	compose := func() {
		a, err := website.New(cfg, clients, log)
		if err != nil {
			t.Fatal(err)
		}
		a.Handler()
	}
	compose() // package-level lazy values, once per process, are not the composition's
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	compose()
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("composing the web function allocates %d bytes (%d allocations)", n, after.Mallocs-before.Mallocs)
	if n > composeBudget {
		t.Errorf("composing the web function allocates %d bytes (%d allocations), over the budget of %d: build what only some requests need when they first need it",
			n, after.Mallocs-before.Mallocs, composeBudget)
	}
}

// Packages whose initialisation costs milliseconds at every start of a process that
// links them, which the web function, serving people, must not link: the Markdown
// libraries (about 5 ms; the render function has them), and the SDK's Lambda client
// (1.4 ms; the web function signs its one call to the render function itself).
var notInTheWebFunction = []string{
	"github.com/yuin/goldmark",
	"github.com/microcosm-cc/bluemonday",
	"github.com/gorilla/css",
	"github.com/aws/aws-sdk-go-v2/service/lambda",
	// The MIME parser is the inbound function's: the inbox reads what it parsed.
	"github.com/jhillyerd/enmime",
}

// The SES client's initialisation costs about 1.2 ms (its schemas and endpoints). The
// web and inbound functions leave their mail in the outbox, whose function sends it, so
// they do not link it (the SES client and the mailer are built in package mailing).
const sesClient = "github.com/aws/aws-sdk-go-v2/service/sesv2"

// The SDK's config package finds credentials in a chain of places a Lambda function
// never uses, and so links the STS, SSO, SSO OIDC and sign-in clients: about 0.9 ms of
// every cold start. No function links it: each reads the environment Lambda gives it
// (package awsenv); only the operators' commands use the chain (package awsprofile).
var notInAnyFunction = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
}

func TestFunctionsLinkNoSlowStartingPackage(t *testing.T) {
	t.Parallel()
	fns, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	slowIn := map[string][]string{
		"web":     append(notInTheWebFunction, sesClient),
		"inbound": {sesClient, "github.com/yuin/goldmark", "github.com/aws/aws-sdk-go-v2/service/lambda"},
	}
	for _, fn := range fns {
		slowIn[fn.Name()] = append(slowIn[fn.Name()], notInAnyFunction...)
	}
	if len(slowIn) < 7 {
		t.Fatalf("found %d functions, want every one of functions/", len(slowIn))
	}
	for fn, slow := range slowIn {
		cmd := exec.Command("go", "list", "-deps", "./functions/"+fn)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			for _, p := range slow {
				if pkg == p || strings.HasPrefix(pkg, p+"/") {
					t.Errorf("the %s function links %s, whose start-up every cold start would pay", fn, pkg)
				}
			}
		}
	}
}

// Go's own template packages call methods by name (reflect's MethodByName), and a
// program that can do that makes the linker keep every exported method of every type
// it puts in an interface: all of S3's operations, for one, because the S3 client
// puts itself in one. That was 6 MB of the web function and about 15 % of its cold
// start. The templates are executed by DataDog's copy of the standard library's
// packages, which cannot call methods; this test builds every function and fails if
// any links a method call by name again (from a template package or anything else).
func TestFunctionsLetTheLinkerDropUnusedMethods(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", dir+"/", "./functions/...")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./functions/...: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 7 {
		t.Fatalf("built %d functions, want every one of functions/", len(entries))
	}
	byName := []string{"reflect.Value.Method", "reflect.Value.MethodByName", "reflect.(*rtype).Method", "reflect.(*rtype).MethodByName"}
	for _, e := range entries {
		out, err := exec.Command("go", "tool", "nm", filepath.Join(dir, e.Name())).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", e.Name(), err)
		}
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 3 && slices.Contains(byName, f[2]) {
				t.Errorf("the %s function links %s: something calls methods by name (a text/template or html/template from the standard library?), so the linker keeps every exported method", e.Name(), f[2])
			}
		}
	}
}
