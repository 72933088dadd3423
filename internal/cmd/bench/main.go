// Command bench measures what the service costs to run: each function's cold start
// against two baselines (a hello world, and a fair peer that builds the same AWS clients
// the way the SDK documents and does nothing else), the size of each binary, and the AWS requests one
// sign-up and one confirmation make. It needs the local stand-ins, so run it with
//
//	make bench
//
// Each figure is printed on a line of its own as `name: value`, so that two runs can be
// compared by a script; progress goes to standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 51, "cold starts of each binary, interleaved")
	recipients := flag.Int("fanout", 10000, "members the fan-out announces a round to; 0 skips the fan-out")
	rate := flag.Float64("rate", 500, "the fan-out's maximum send rate, emails a second")
	big := flag.Int("fanout-memory", 100000, "members of the fan-out whose memory is measured (0: none)")
	bigRate := flag.Float64("fanout-memory-rate", 1000, "the maximum send rate of that fan-out, emails a second")
	startupOnly := flag.Bool("startup-only", false, "measure only the cold starts and binary sizes (no stand-ins needed)")
	startTimeout := flag.Duration("start-timeout", 10*time.Second, "longest a binary may take to ask the Runtime API for work")
	kitsOnly := flag.Bool("kits", false, "measure only the kits' figures (kit.save, kit.merge200, kit.download)")
	flag.Parse()
	if *startupOnly {
		if err := coldStartFigures(context.Background(), os.Stdout, *runs, *startTimeout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if os.Getenv("PEERGROUPS_STACK") == "" {
		fmt.Fprintln(os.Stderr, "bench: the local stand-ins are not running. Run the bench with `make bench` from the repository root.")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *kitsOnly {
		if err := kitFigures(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	j, err := run(ctx, os.Stdout, *runs, *startTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := kitFigures(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	inbound, err := inboundFigures(ctx, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := costFigures(ctx, os.Stdout, j, inbound); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if *recipients == 0 {
		return
	}
	if err := fanout(ctx, os.Stdout, *recipients, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if *big > 0 {
		if err := fanoutMemory(ctx, os.Stdout, fmt.Sprintf("fanout%dk", *big/1000), *big, *bigRate); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, out io.Writer, runs int, startTimeout time.Duration) (journey, error) {
	if err := coldStartFigures(ctx, out, runs, startTimeout); err != nil {
		return journey{}, err
	}
	j, err := countJourney(ctx)
	if err != nil {
		return journey{}, err
	}
	for _, step := range []struct {
		name  string
		count requests
	}{{"signup", j.signup}, {"confirm", j.confirm}} {
		figure(out, step.name+".dynamodb_requests", fmt.Sprint(step.count.service("DynamoDB")))
		figure(out, step.name+".ses_calls", fmt.Sprint(step.count.service("SESv2")))
	}
	for _, step := range []struct {
		name  string
		count requests
	}{{"signup", j.signup}, {"confirm", j.confirm}} {
		for _, op := range step.count.sorted() {
			figure(out, step.name+"."+op.key, fmt.Sprint(op.n))
		}
	}
	return j, nil
}

// coldStartFigures builds every function and the two baselines, and prints their cold
// starts and sizes.
func coldStartFigures(ctx context.Context, out io.Writer, runs int, startTimeout time.Duration) error {
	if runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	names, err := functions("functions")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "peergroups-bench-*")
	if err != nil {
		return fmt.Errorf("make build folder: %w", err)
	}
	defer os.RemoveAll(dir)

	bins := []binary{
		{Name: "hello", Package: "./internal/bench/hello"},
		{Name: "peer", Package: "./internal/bench/peer"},
	}
	for _, n := range names {
		bins = append(bins, binary{Name: n, Package: "./functions/" + n})
	}
	if err := buildAll(ctx, dir, bins); err != nil {
		return err
	}
	env, err := lambdaEnv()
	if err != nil {
		return err
	}
	medians, err := coldStarts(ctx, bins, env, runs, startTimeout)
	if err != nil {
		return err
	}
	hello, peer := medians[0], medians[1]
	figure(out, "coldstart.hello.ms", ms(hello.wall))
	figure(out, "coldstart.peer.ms", ms(peer.wall))
	figure(out, "coldstart.peer.cpu_ms", ms(peer.cpu))
	for i, b := range bins[2:] {
		m := medians[i+2]
		figure(out, "coldstart."+b.Name+".ms", ms(m.wall))
		figure(out, "coldstart."+b.Name+".ratio", ratio(m.wall, hello.wall))
		figure(out, "coldstart."+b.Name+".peer_ratio", ratio(m.wall, peer.wall))
		figure(out, "coldstart."+b.Name+".cpu_ms", ms(m.cpu))
		figure(out, "coldstart."+b.Name+".cpu_peer_ratio", ratio(m.cpu, peer.cpu))
	}
	for _, b := range bins {
		fi, err := os.Stat(b.Path)
		if err != nil {
			return fmt.Errorf("size of %s: %w", b.Name, err)
		}
		figure(out, "binary."+b.Name+".bytes", fmt.Sprint(fi.Size()))
	}
	return nil
}

// functions lists the functions: the folders under dir.
func functions(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list functions (run the bench from the repository root): %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no functions under %s", dir)
	}
	return names, nil
}

// figure prints one result as `name: value`.
func figure(out io.Writer, name, value string) {
	fmt.Fprintf(out, "%s: %s\n", name, value)
}

// ratio formats a / b with two decimals.
func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2f", float64(a)/float64(b)) }

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// progress tells the person running the bench what it is doing.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
