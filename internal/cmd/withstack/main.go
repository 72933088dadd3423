// Command withstack starts the local stand-ins in memory on free ports, runs a
// command with the environment pointing at them, then stops them, whatever the
// command's outcome. It exits with the command's exit code.
//
//	go run ./internal/cmd/withstack -- go test -race ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/peergroups/peergroups/internal/devstack"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withstack -- command [args...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	out, err := os.CreateTemp("", "peergroups-stand-ins-*.log")
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	defer os.Remove(out.Name())
	defer out.Close()
	stack, err := devstack.Start(ctx, devstack.Options{Root: root, Output: out})
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	defer stack.Stop()
	fmt.Fprintf(os.Stderr, "withstack: DynamoDB Local %s, SES %s, S3 %s\n", stack.DynamoURL, stack.SESURL, stack.S3URL)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	for k, v := range stack.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PEERGROUPS_STACK=1")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	go func() {
		<-ctx.Done()
		cmd.Process.Signal(syscall.SIGTERM)
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
}
