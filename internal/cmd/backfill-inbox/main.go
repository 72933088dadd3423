// Command backfill-inbox lists the conversations stored before the groups' inboxes and
// the sender index existed where the console and privacy requests now read them: a
// copy of each group's conversation in its group's inbox (GROUPINBOX#<group>#<status>),
// and each message under its sender (SENDER#<from>). It writes only what is missing,
// so it is safe to run again, and reads at most -max conversations (Queries, no Scan).
//
//	TABLE_NAME=peergroups-Table-XYZ go run ./internal/cmd/backfill-inbox
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
	limit := flag.Int("max", 100000, "the most conversations to read")
	flag.Parse()
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		fmt.Fprintln(os.Stderr, "backfill-inbox: set TABLE_NAME to the table's name (an output of the stack)")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := awsprofile.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-inbox:", err)
		os.Exit(1)
	}
	store := dynamo.Capabilities(dynamo.New(app.NewClients(cfg).DynamoDB, table)).MailIn
	r, err := store.BackfillInbox(ctx, *limit)
	fmt.Printf("backfill-inbox: %d conversations read, %d copied to their group's inbox, %d messages listed by sender\n", r.Conversations, r.GroupCopies, r.Messages)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill-inbox:", err)
		os.Exit(1)
	}
	if r.More {
		fmt.Printf("backfill-inbox: stopped at -max %d: run it again with a higher -max\n", *limit)
	}
}
