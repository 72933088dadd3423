// Package devstack starts the local stand-ins for the AWS services the service uses:
// DynamoDB Local (AWS's own, run with Java), aws-ses-v2-local (Node) and gofakes3
// (in this process). `make dev` and `make test` both use it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Options says where the stand-ins run.
type Options struct {
	Root    string // the repository root: node_modules/ and .local/ live there
	Persist bool   // keep data under .local/ (make dev); in memory otherwise (tests)
	// Ports; 0 picks a free one.
	DynamoPort, SESPort, S3Port int
	Output                      io.Writer // where the stand-ins' own output goes
}

// Stack is the running stand-ins.
type Stack struct {
	DynamoURL, SESURL, S3URL string
	// UploadURL is the front that takes the browser's presigned POST uploads, as S3
	// does (KITS_UPLOAD_URL).
	UploadURL string

	procs []*exec.Cmd
	s3    *http.Server
	front *http.Server
}

// Region is the region the local stack pretends to be.
const Region = "eu-west-2"

// Start starts the stand-ins and waits until each answers. On error, what was started
// is stopped again.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	st := &Stack{}
	defer func() {
		if err != nil {
			st.Stop()
		}
	}()
	local := filepath.Join(opts.Root, ".local")
	if err := os.MkdirAll(local, 0o755); err != nil {
		return nil, fmt.Errorf("make %s: %w", local, err)
	}

	// DynamoDB Local.
	jarDir := filepath.Join(local, "dynamodb")
	if _, err := os.Stat(filepath.Join(jarDir, "DynamoDBLocal.jar")); err != nil {
		return nil, fmt.Errorf("DynamoDB Local is not installed in %s: run `make deps`", jarDir)
	}
	port, err := portFor(opts.DynamoPort)
	if err != nil {
		return nil, fmt.Errorf("dynamodb local: %w", err)
	}
	args := []string{"-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-port", strconv.Itoa(port), "-disableTelemetry"}
	if opts.Persist {
		data := filepath.Join(local, "dynamodb-data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, fmt.Errorf("make %s: %w", data, err)
		}
		args = append(args, "-dbPath", data, "-sharedDb")
	} else {
		args = append(args, "-inMemory")
	}
	if err := st.run(ctx, jarDir, opts.Output, "java", args...); err != nil {
		return nil, fmt.Errorf("start dynamodb local: %w", err)
	}
	st.DynamoURL = "http://127.0.0.1:" + strconv.Itoa(port)

	// aws-ses-v2-local.
	cli := filepath.Join(opts.Root, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("aws-ses-v2-local is not installed: run `npm ci`")
	}
	port, err = portFor(opts.SESPort)
	if err != nil {
		return nil, fmt.Errorf("ses stand-in: %w", err)
	}
	if err := st.run(ctx, opts.Root, opts.Output, "node", cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port)); err != nil {
		return nil, fmt.Errorf("start ses stand-in: %w", err)
	}
	st.SESURL = "http://127.0.0.1:" + strconv.Itoa(port)

	// gofakes3, in this process, over plain HTTP.
	var backend gofakes3.Backend = s3mem.New()
	if opts.Persist {
		bolt, err := s3bolt.NewFile(filepath.Join(local, "s3.db"))
		if err != nil {
			return nil, fmt.Errorf("open s3 data: %w", err)
		}
		backend = bolt
	}
	port, err = portFor(opts.S3Port)
	if err != nil {
		return nil, fmt.Errorf("s3 stand-in: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("s3 stand-in: %w", err)
	}
	st.s3 = &http.Server{Handler: gofakes3.New(backend).Server(), ReadHeaderTimeout: 10 * time.Second}
	go st.s3.Serve(ln)
	st.S3URL = "http://" + ln.Addr().String()
	if err := st.startUploadFront(); err != nil {
		return nil, err
	}

	for _, u := range []string{st.DynamoURL, st.SESURL} {
		if err := st.waitFor(ctx, u[len("http://"):]); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Env returns the environment that points the AWS SDK at the stand-ins.
func (st *Stack) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": st.DynamoURL,
		// DynamoDB Local serves its stream on the same port.
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": st.DynamoURL,
		"AWS_ENDPOINT_URL_SESV2":            st.SESURL,
		"AWS_ENDPOINT_URL_S3":               st.S3URL,
		"AWS_REGION":                        Region,
		"AWS_ACCESS_KEY_ID":                 "local",
		"AWS_SECRET_ACCESS_KEY":             "local",
		"AWS_EC2_METADATA_DISABLED":         "true",
		"PEERGROUPS_SES_STORE":              st.SESURL + "/store",
		"KITS_UPLOAD_URL":                   st.UploadURL,
	}
}

// Stop stops every stand-in and waits for each process to end.
func (st *Stack) Stop() {
	for _, srv := range []*http.Server{st.front, st.s3} {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			srv.Shutdown(ctx)
			cancel()
		}
	}
	for _, cmd := range st.procs {
		stop(cmd)
	}
	st.procs = nil
}

// run starts a process in its own process group, killed with its parent on Linux.
func (st *Stack) run(ctx context.Context, dir string, out io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	st.procs = append(st.procs, cmd)
	return nil
}

// waitFor waits until addr accepts connections, for at most a minute.
func (st *Stack) waitFor(ctx context.Context, addr string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		for _, cmd := range st.procs {
			if cmd.ProcessState != nil {
				return fmt.Errorf("%s exited before it was ready", cmd.Path)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing answered on %s within a minute", addr)
}

// stop ends a process group: SIGTERM, then SIGKILL after five seconds.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// portFor returns port, after checking it is free, or a free port when port is 0.
func portFor(port int) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		var inUse *net.OpError
		if errors.As(err, &inUse) {
			return 0, fmt.Errorf("port %d is in use (is another `make dev` running?): %w", port, err)
		}
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
