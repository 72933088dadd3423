// Command backfill-authors lists the items written before what facilitators and admins
// wrote or did was listed under their address (kit revisions, suggestions made and
// answered, variants, merges in progress, inbox replies: AUTHOR#<address>), and the
// sessions and sign-in links written before they were listed in gsi1 (LOGIN#<address>),
// so that an erasure finds them. It Scans the table once, reading at most -max items,
// and writes only what is missing, so it is safe to run again.
//
// With the stack's LINK_KEY and PSEUDONYM_KEY it also finds the authors erased before
// the index (their keyed hash is on the suppression list) and replaces their address
// in what they wrote or did, as an erasure now does.
//
//	TABLE_NAME=peergroups-Table-XYZ LINK_KEY=... PSEUDONYM_KEY=... go run ./internal/cmd/backfill-authors
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/awsprofile"
	"github.com/peergroups/peergroups/internal/dynamo"
)

func main() {
	limit := flag.Int("max", 1000000, "the most items to read")
	flag.Parse()
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		fmt.Fprintln(os.Stderr, "backfill-authors: set TABLE_NAME to the table's name (an output of the stack)")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := awsprofile.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-authors:", err)
		os.Exit(1)
	}
	db := app.NewClients(cfg).DynamoDB
	base := dynamo.New(db, table)
	if os.Getenv("PSEUDONYM_KEY") != "" {
		// With the stack's keys it recognises the authors erased before the index by
		// the hash their erasure left, and forgets them as an erasure now does.
		conf, err := app.LoadConfig(os.Getenv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "backfill-authors: configuration: %v (LINK_KEY and PSEUDONYM_KEY are the stack's secrets)\n", err)
			os.Exit(2)
		}
		keys, err := conf.Keyring(time.Now)
		if err != nil {
			fmt.Fprintln(os.Stderr, "backfill-authors:", err)
			os.Exit(2)
		}
		base = app.TableStore(conf, app.NewClients(cfg), keys)
	} else {
		fmt.Println("backfill-authors: PSEUDONYM_KEY is not set: authors erased before this upgrade cannot be recognised, and keep their address in what they wrote")
	}
	store := dynamo.Capabilities(base).Privacy
	r, err := store.BackfillAuthors(ctx, db.Scan, *limit)
	fmt.Printf("backfill-authors: %d items read, %d listed under their author, %d sessions and sign-in links listed under their address, %d authors erased before forgotten\n", r.Scanned, r.Listed, r.Logins, r.Erased)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-authors:", err)
		os.Exit(1)
	}
	if r.More {
		fmt.Printf("backfill-authors: stopped at -max %d: run it again with a higher -max\n", *limit)
	}
}
