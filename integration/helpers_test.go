package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// cli runs the runtools CLI against the server and returns its output and exit code.
func (s *server) cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return s.cliHome(t, t.TempDir(), stdin, args...)
}

// cliHome is cli with HOME set to home.
func (s *server) cliHome(t *testing.T, home, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "RUNTOOLS_URL=http://"+s.addr, "RUNTOOLS_API_KEY="+s.key, "HOME="+home)
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(t, cmd)
}

// runCmd runs c and returns its output and exit code; it fails the test
// if c cannot run at all.
func runCmd(t *testing.T, c *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", c.Args[0], err)
	}
	return out.String(), errb.String(), code
}

// create makes a sandbox that is destroyed when the test ends.
func create(t *testing.T, s *server, req client.CreateRequest) *client.Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := s.client().Create(ctx, req)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = s.client().Destroy(context.Background(), sb.ID) })
	return sb
}

// sh runs a shell command in a sandbox and fails the test if it cannot run.
func sh(t *testing.T, sb *client.Sandbox, script string) *client.ExecResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	return res
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
