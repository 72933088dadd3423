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
	"os"
	"time"

	"github.com/peergroups/peergroups/internal/app"
)

func main() {
	pages := flag.Int("max", 10000, "the most pages of 100 entries to read")
	linkKeyed := flag.Bool("link-key-pseudonyms", false, "allow an empty PSEUDONYM_KEY: pseudonyms keyed by LINK_KEY, as `make dev` and the tests have them (never in AWS)")
	flag.Parse()
	if os.Getenv("TABLE_NAME") == "" {
		fail(2, "set TABLE_NAME to the table's name (an output of the stack)")
	}
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		fail(2, fmt.Sprintf("configuration: %v (LINK_KEY and PSEUDONYM_KEY are the stack's secrets)", err))
	}
	if cfg.PseudonymKey == nil && !*linkKeyed {
		fail(2, "set PSEUDONYM_KEY to the stack's (its PseudonymKeySecret): with another key the entries would name people by hashes nobody can find them by")
	}
	keys, err := cfg.Keyring(time.Now)
	if err != nil {
		fail(2, err.Error())
	}
	ctx := context.Background()
	awsCfg, err := app.AWSConfig(ctx)
	if err != nil {
		fail(1, err.Error())
	}
	store := app.TableStore(cfg, app.NewClients(awsCfg), keys)
	r, err := store.PseudonymiseAudit(ctx, *pages)
	fmt.Printf("pseudonymise-audit: %d entries read, %d rewritten without addresses, %d pointers written (entries listed by person)\n", r.Entries, r.Rewritten, r.Pointers)
	if err != nil {
		fail(1, err.Error())
	}
	switch {
	case r.More:
		fmt.Printf("pseudonymise-audit: stopped at -max %d pages: run it again with a higher -max\n", *pages)
	case r.Rewritten == 0 && r.Pointers == 0:
		fmt.Println("pseudonymise-audit: nothing to change: no entry holds an address, and every entry is listed under the people it names")
	}
}

func fail(code int, why string) {
	fmt.Fprintln(os.Stderr, "pseudonymise-audit:", why)
	os.Exit(code)
}
