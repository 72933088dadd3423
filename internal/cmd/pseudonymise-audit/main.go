// Command pseudonymise-audit rewrites the audit entries written before the store wrote
// every address in an entry as a keyed hash ("person <hash>"), in the audit table and
// in the table's AUDIT partition, with the function and the key the functions use
// (pg.PseudonymousEntry, keyed by PSEUDONYM_KEY), and lists every entry under the
// people it names, which is how a person's export and erasure find their entries. It
// keeps each entry's keys, time and ttl, writes only what is missing or still holds an
// address, so it is safe to run again, and reads at most -max pages of 100 entries
// (Queries, no Scan). It runs with an operator's credentials: no function may change an
// audit entry.
//
//	TABLE_NAME=peergroups-Table-XYZ LINK_KEY=... PSEUDONYM_KEY=... go run ./internal/cmd/pseudonymise-audit
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/awsprofile"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the command with its arguments and environment, returning its exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(code int, why string) int {
		fmt.Fprintln(stderr, "pseudonymise-audit:", why)
		return code
	}
	flags := flag.NewFlagSet("pseudonymise-audit", flag.ContinueOnError)
	flags.SetOutput(stderr)
	pages := flags.Int("max", 10000, "the most pages of 100 entries to read")
	linkKeyed := flags.Bool("link-key-pseudonyms", false, "allow an empty PSEUDONYM_KEY: pseudonyms keyed by LINK_KEY, as `make dev` and the tests have them (never in AWS)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if getenv("TABLE_NAME") == "" {
		return fail(2, "set TABLE_NAME to the table's name (an output of the stack)")
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return fail(2, fmt.Sprintf("configuration: %v (LINK_KEY and PSEUDONYM_KEY are the stack's secrets)", err))
	}
	if cfg.PseudonymKey == nil && !*linkKeyed {
		return fail(2, "set PSEUDONYM_KEY to the stack's (its PseudonymKeySecret): with another key the entries would name people by hashes nobody could find them by")
	}
	keys, err := cfg.Keyring(time.Now)
	if err != nil {
		return fail(2, err.Error())
	}
	awsCfg, err := awsprofile.Load(ctx) // an operator's credentials: their profile, SSO session or environment
	if err != nil {
		return fail(1, err.Error())
	}
	store := app.TableStore(cfg, app.NewClients(awsCfg), keys)
	r, err := store.PseudonymiseAudit(ctx, *pages)
	fmt.Fprintf(stdout, "pseudonymise-audit: %d entries read, %d rewritten without addresses, %d pointers written (entries listed by person)\n", r.Entries, r.Rewritten, r.Pointers)
	if err != nil {
		return fail(1, err.Error())
	}
	switch {
	case r.More:
		fmt.Fprintf(stdout, "pseudonymise-audit: stopped at -max %d pages: run it again with a higher -max\n", *pages)
	case r.Rewritten == 0 && r.Pointers == 0:
		fmt.Fprintln(stdout, "pseudonymise-audit: nothing to change: no entry holds an address, and every entry is listed under the people it names")
	}
	return 0
}
