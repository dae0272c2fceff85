package agent_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// TestAttachCloseKills: closing the session (or losing the connection)
// ends the process group; on a TTY a process that ignores SIGHUP is killed
// after a grace period.
func TestAttachCloseKills(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	for _, tty := range []bool{false, true} {
		dir := t.TempDir()
		s := attach(t, c, agentapi.AttachRequest{
			Cmd: sh("trap '' HUP; sleep 60 & echo $! > " + dir + "/child; echo $$; wait"),
			TTY: tty,
		})
		out := collect(s.Stdout())
		pid, _ := strconv.Atoi(strings.TrimSpace(out.waitFor(t, "\n")))
		b, err := os.ReadFile(dir + "/child")
		if err != nil {
			t.Fatal(err)
		}
		child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		s.Close()
		if _, err := s.Wait(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Wait after Close: %v", err)
		}
		waitGone(t, pid)
		waitGone(t, child)
	}
}

// TestAttachHangupJobs: losing an interactive shell's connection ends its
// background jobs too, which job control puts in process groups of their
// own, even those that ignore SIGHUP.
func TestAttachHangupJobs(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{Cmd: []string{"sh"}, TTY: true, Env: map[string]string{"PS1": "$ "}})
	out := collect(s.Stdout())
	io.WriteString(s, "trap '' HUP; sleep 60 & echo \"job=$! shell=$$\"\n")
	// The terminal echoes the typed line, "shell=$$" and all, before the
	// shell has run it: wait for numbers.
	m := out.waitMatch(t, regexp.MustCompile(`job=(\d+) shell=(\d+)\r\n`))
	job, _ := strconv.Atoi(m[1])
	shell, _ := strconv.Atoi(m[2])
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(job) + "/stat"); err != nil || !strings.Contains(string(b), " "+strconv.Itoa(job)+" "+strconv.Itoa(shell)+" ") {
		t.Logf("job %d is not a group of its own in session %d: %q", job, shell, b)
	}
	s.Close()
	waitGone(t, shell)
	waitGone(t, job)
}

// TestAttachStdinNotRead: a caller blocked writing input the process does
// not read can still close the session, and the process is killed.
func TestAttachStdinNotRead(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s, pid := attachSleeper(t, c)
	go s.Write(make([]byte, 16<<20)) // blocks: nobody reads it
	time.Sleep(300 * time.Millisecond)
	s.Close()
	waitGone(t, pid)
}

func TestAttachGrandchildHoldsOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	for _, tty := range []bool{false, true} {
		start := time.Now()
		// The grandchild ignores the hangup a TTY session sends when the shell
		// exits, so that only the drain deadline can end the session.
		s := attach(t, c, agentapi.AttachRequest{Cmd: sh("trap \"\" HUP; sleep 3 & echo hi"), TTY: tty})
		out := collect(s.Stdout())
		if code := end(t, s, out); code != 0 || !strings.HasPrefix(out.String(), "hi") {
			t.Errorf("tty=%v: exit %d, output %q", tty, code, out.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("tty=%v: took %v; the grandchild held the session open", tty, d)
		}
	}
}

func TestAttachLargeOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	const n = 5 << 20
	s := attach(t, c, agentapi.AttachRequest{Cmd: sh("head -c " + strconv.Itoa(n) + " /dev/zero; echo done >&2")})
	// Read stderr first: stdout waits in its buffer and then in the pipes.
	errOut := collect(s.Stderr())
	got, err := io.Copy(io.Discard, s.Stdout())
	if err != nil || got != n {
		t.Errorf("stdout: %d bytes, %v", got, err)
	}
	if code := end(t, s, errOut); code != 0 || errOut.String() != "done\n" {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestAttachListed(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	_, pid := attachSleeper(t, c)
	procs, err := c.Processes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range procs {
		found = found || (p.PID == pid && p.Running)
	}
	if !found {
		t.Errorf("attached process %d not in %+v", pid, procs)
	}
}

// TestUpgradeAuth: the upgrade routes check the token before anything
// else, Upgrade headers or not, and refuse requests without them.
func TestUpgradeAuth(t *testing.T) {
	t.Parallel()
	wrong, base := startWrongClient(t)
	ctx := context.Background()
	if _, err := wrong.Attach(ctx, agentapi.AttachRequest{Cmd: []string{"true"}}); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("Attach with a wrong token: %v", err)
	}
	if _, err := wrong.SFTP(ctx, ""); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("SFTP with a wrong token: %v", err)
	}

	for _, tc := range []struct{ path, proto, auth string }{
		{"/attach", agentapi.UpgradeAttach, ""},
		{"/attach", agentapi.UpgradeAttach, "Bearer wrong"},
		{"/sftp", agentapi.UpgradeSFTP, ""},
		{"/sftp", agentapi.UpgradeSFTP, "Bearer wrong"},
	} {
		status, body := rawUpgrade(t, base, tc.path, tc.proto, tc.auth)
		if status != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
			t.Errorf("%s with %q: %d %s", tc.path, tc.auth, status, body)
		}
	}
	// With the token but without the Upgrade headers: 400, no process.
	for _, path := range []string{"/attach", "/sftp"} {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(`{"cmd":["true"]}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if status, e := errorAnswer(t, req); status != http.StatusBadRequest || e.Code != "invalid_argument" {
			t.Errorf("%s without Upgrade: %d %+v", path, status, e)
		}
	}
}

// rawUpgrade sends an upgrade request by hand and returns the answer.
func rawUpgrade(t *testing.T, base, path, proto, auth string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"cmd":["true"]}`
	req := "POST " + path + " HTTP/1.1\r\nHost: agent\r\nConnection: Upgrade\r\nUpgrade: " + proto +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAttachOverhead compares attaching to `true` with an exec of it.
func TestAttachOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	c, _ := startAgent(t, agent.Config{})
	const n = 50
	timeIt := func(f func()) time.Duration {
		f() // warm up
		start := time.Now()
		for range n {
			f()
		}
		return time.Since(start) / n
	}
	execAvg := timeIt(func() { run(t, c, agentapi.ExecRequest{Cmd: []string{"true"}}) })
	attachAvg := timeIt(func() { attachTrue(t, c) })
	// Measured, not asserted: a shared machine's load moves it.
	t.Logf("true via exec: %v, via attach: %v", execAvg, attachAvg)
}
