// Command seed adds the starting groups that are missing, and the councils, to the
// table named by TABLE_NAME, using the usual AWS credentials and region. It is safe to
// run again: existing groups are left as they are.
//
//	TABLE_NAME=peergroups-Table-XYZ go run ./internal/cmd/seed
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/awsprofile"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/dynamo"
)

func main() {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		fmt.Fprintln(os.Stderr, "seed: set TABLE_NAME to the table's name (an output of the stack)")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := awsprofile.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
	if err := devstack.Seed(ctx, dynamo.New(app.NewClients(cfg).DynamoDB, table)); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
	fmt.Println("seed: groups and councils written to", table)
}
