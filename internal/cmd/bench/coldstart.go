package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// binary is one program to measure: a function, or a baseline (hello world, the peer).
type binary struct {
	Name    string
	Package string // import path relative to the repository root
	Path    string // where it was built
}

// buildAll builds each binary into dir the way the Makefile builds for Lambda, but for
// this machine's GOOS and GOARCH so that it can run here. It sets each binary's Path.
func buildAll(ctx context.Context, dir string, bins []binary) error {
	for i := range bins {
		b := &bins[i]
		b.Path = filepath.Join(dir, b.Name, "bootstrap")
		progress("build %s (%s/%s)", b.Package, runtime.GOOS, runtime.GOARCH)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", b.Path, b.Package)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", b.Package, err, out)
		}
	}
	return nil
}

// lambdaEnv returns the environment a function has in Lambda, with the web function's
// configuration (memory size as in template.yaml). Nothing is inherited from this
// process.
func lambdaEnv() ([]string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make link key: %w", err)
	}
	return []string{
		"AWS_LAMBDA_FUNCTION_NAME=peergroups-bench",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/peergroups-bench",
		"AWS_LAMBDA_LOG_STREAM_NAME=bench",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_REGION=eu-west-2",
		"AWS_DEFAULT_REGION=eu-west-2",
		"AWS_ACCESS_KEY_ID=bench",
		"AWS_SECRET_ACCESS_KEY=bench",
		"AWS_SESSION_TOKEN=bench",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=/var/task",
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LINK_KEY=" + base64.StdEncoding.EncodeToString(key),
		"TABLE_NAME=peergroups",
		"BASE_URL=https://peergroups.example.org",
	}, nil
}

// startup is what one cold start cost: the time until the function asked for work,
// and the processor time it used to get there (user and system), which other work on
// the machine disturbs less than the wall-clock time.
type startup struct{ wall, cpu time.Duration }

// coldStarts starts each binary runs times, taking turns (hello, web, hello, web, …) so
// that whatever else the machine is doing falls on all of them alike, and returns the
// median cold start of each, in the order of bins.
func coldStarts(ctx context.Context, bins []binary, env []string, runs int, timeout time.Duration) ([]startup, error) {
	progress("cold start each binary %d times", runs)
	walls := make([][]time.Duration, len(bins))
	cpus := make([][]time.Duration, len(bins))
	for range runs {
		for i, b := range bins {
			s, err := coldStart(ctx, b, env, timeout)
			if err != nil {
				return nil, err
			}
			walls[i] = append(walls[i], s.wall)
			cpus[i] = append(cpus[i], s.cpu)
		}
	}
	medians := make([]startup, len(bins))
	for i := range bins {
		medians[i] = startup{wall: median(walls[i]), cpu: median(cpus[i])}
	}
	return medians, nil
}

// coldStart runs b once against a fake Runtime API and measures it from just before
// the process starts to its first request for work. The process is killed after it.
func coldStart(ctx context.Context, b binary, env []string, timeout time.Duration) (startup, error) {
	rt, err := startRuntime()
	if err != nil {
		return startup{}, err
	}
	defer rt.Close()

	var output bytes.Buffer
	cmd := exec.Command(b.Path)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+rt.Addr)
	cmd.Stdout, cmd.Stderr = &output, &output
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return startup{}, fmt.Errorf("start %s: %w", b.Name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	limit := time.NewTimer(timeout)
	defer limit.Stop()
	select {
	case at := <-rt.Asked:
		// It now waits for work and uses no processor time: what it used so far is
		// its start-up's.
		stop()
		usage := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return startup{wall: at.Sub(start), cpu: usage}, nil
	case <-exited:
		return startup{}, fmt.Errorf("%s exited before asking the Runtime API for work (%v): %s", b.Name, waitErr, strings.TrimSpace(output.String()))
	case <-limit.C:
		stop()
		return startup{}, fmt.Errorf("%s did not call the Runtime API within %s", b.Name, timeout)
	case <-ctx.Done():
		stop()
		return startup{}, ctx.Err()
	}
}

// runtimeAPI is a fake Lambda Runtime API: it notes when the function first asks for an
// invocation, and holds that request until the function is gone.
type runtimeAPI struct {
	Addr  string
	Asked chan time.Time // receives the time of the first request for work

	srv  *http.Server
	done chan struct{}
}

func startRuntime() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake runtime api: %w", err)
	}
	rt := &runtimeAPI{Addr: ln.Addr().String(), Asked: make(chan time.Time, 1), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case rt.Asked <- time.Now():
		default:
		}
		select {
		case <-r.Context().Done():
		case <-rt.done:
		}
		http.Error(w, "no work: this is the bench", http.StatusInternalServerError)
	})
	rt.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := rt.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			progress("fake runtime api: %v", err)
		}
	}()
	return rt, nil
}

// Close releases any held request and stops the server.
func (rt *runtimeAPI) Close() {
	close(rt.done)
	rt.srv.Close()
}

// median returns the middle of ds (the mean of the two middles for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
