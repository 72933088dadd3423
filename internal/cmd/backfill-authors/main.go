// Command backfill-authors lists the items written before what facilitators and admins
// wrote or did was listed under their address (kit revisions, suggestions made and
// answered, variants, merges in progress, inbox replies: AUTHOR#<address>), and the
// sessions and sign-in links written before they were listed in gsi1 (LOGIN#<address>),
// so that an erasure finds them. It Scans the table once, reading at most -max items,
// and writes only what is missing, so it is safe to run again.
//
//	TABLE_NAME=peergroups-Table-XYZ go run ./internal/cmd/backfill-authors
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

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
	store := dynamo.Capabilities(dynamo.New(db, table)).Privacy
	r, err := store.BackfillAuthors(ctx, db.Scan, *limit)
	fmt.Printf("backfill-authors: %d items read, %d listed under their author, %d sessions and sign-in links listed under their address\n", r.Scanned, r.Listed, r.Logins)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-authors:", err)
		os.Exit(1)
	}
	if r.More {
		fmt.Printf("backfill-authors: stopped at -max %d: run it again with a higher -max\n", *limit)
	}
}
