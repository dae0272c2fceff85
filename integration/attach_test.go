package integration

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/runtools/runtools/client"
)

// lineReader reads a session's output a line at a time, as it comes.
type lineReader struct {
	t  *testing.T
	br *bufio.Reader
}

// pipeLines returns a writer for StreamOptions and a reader of its lines.
func pipeLines(t *testing.T) (io.Writer, *lineReader) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	return pw, &lineReader{t: t, br: bufio.NewReader(pr)}
}

func (l *lineReader) next() string {
	l.t.Helper()
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() { s, err := l.br.ReadString('\n'); ch <- result{s, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			l.t.Fatalf("reading a line: %v (got %q)", r.err, r.s)
		}
		return r.s
	case <-time.After(30 * time.Second):
		l.t.Fatal("no line within 30s")
		return ""
	}
}

// TestAttach: exec attach streams stdin to a command while it runs (each
// line comes back before the next is sent), keeps stderr apart, passes the
// exit code, runs on a TTY that follows resizes, and passes signals.
func TestAttach(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 2*time.Minute)
	attach := func(req client.AttachRequest, opts client.StreamOptions) *client.Session {
		t.Helper()
		sess, err := sb.Attach(ctx, req, opts)
		if err != nil {
			t.Fatalf("attach %q: %v", req.Cmd, err)
		}
		t.Cleanup(func() { sess.Close() })
		return sess
	}
	wait := func(sess *client.Session, want int) {
		t.Helper()
		if code, err := sess.Wait(); code != want || err != nil {
			t.Fatalf("Wait: %d, %v; want %d", code, err, want)
		}
	}

	t.Run("stdin streams to cat", func(t *testing.T) {
		out, lines := pipeLines(t)
		sess := attach(client.AttachRequest{Cmd: []string{"cat"}}, client.StreamOptions{Stdout: out})
		for _, line := range []string{"first\n", "second\n", "third\n"} {
			if _, err := sess.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
			if got := lines.next(); got != line {
				t.Fatalf("read back %q, want %q", got, line)
			}
		}
		if err := sess.CloseStdin(); err != nil {
			t.Fatal(err)
		}
		wait(sess, 0)
	})

	t.Run("exit code and stderr apart", func(t *testing.T) {
		var out, errOut bytes.Buffer
		sess := attach(client.AttachRequest{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 5"}}, client.StreamOptions{Stdout: &out, Stderr: &errOut})
		wait(sess, 5)
		if out.String() != "out\n" || errOut.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
		}
	})

	t.Run("tty and resize", func(t *testing.T) {
		out, lines := pipeLines(t)
		sess := attach(client.AttachRequest{Cmd: []string{"sh", "-c", "test -t 0 && echo tty; stty size; read x; stty size"}, TTY: true, Cols: 100, Rows: 30},
			client.StreamOptions{Stdout: out})
		if got := lines.next(); got != "tty\r\n" {
			t.Fatalf("first line %q, want tty", got)
		}
		if got := lines.next(); got != "30 100\r\n" {
			t.Fatalf("first size %q, want 30 100", got)
		}
		if err := sess.Resize(120, 40); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if _, err := sess.Write([]byte("\n")); err != nil {
			t.Fatal(err)
		}
		lines.next() // the echo of the newline
		if got := lines.next(); got != "40 120\r\n" {
			t.Fatalf("size after resize %q, want 40 120", got)
		}
		wait(sess, 0)
	})

	t.Run("a signal stops sleep", func(t *testing.T) {
		sess := attach(client.AttachRequest{Cmd: []string{"sleep", "300"}}, client.StreamOptions{})
		time.Sleep(200 * time.Millisecond)
		if err := sess.Signal("TERM"); err != nil {
			t.Fatal(err)
		}
		wait(sess, 128+15)
	})

	t.Run("cannot start", func(t *testing.T) {
		var msg string
		sess := attach(client.AttachRequest{Cmd: []string{"no-such-command"}}, client.StreamOptions{OnEvent: func(ev client.Event) {
			if ev.Type == client.EventError {
				msg = ev.Message
			}
		}})
		wait(sess, 127)
		if !strings.Contains(msg, "no-such-command") {
			t.Errorf("error %q, want it to name the command", msg)
		}
	})
}

// cliCommand is the runtools CLI against s, not yet started.
func (s *server) cliCommand(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "RUNTOOLS_URL=http://"+s.addr, "RUNTOOLS_API_KEY="+s.key, "HOME="+t.TempDir(), "TERM=xterm")
	return cmd
}

// TestAttachCLI: `sandbox exec -i` streams the CLI's stdin (each line
// comes back before the next is written) and exits with the command's
// code; `exec -it` runs on a terminal in raw mode that follows the local
// window's size.
func TestAttachCLI(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})

	t.Run("-i streams", func(t *testing.T) {
		cmd := s.cliCommand(t, "sandbox", "exec", "-i", sb.ID, "--", "sh", "-c", "cat; exit 4")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := &lineReader{t: t, br: bufio.NewReader(stdout)}
		for _, line := range []string{"alpha\n", "beta\n"} {
			if _, err := io.WriteString(stdin, line); err != nil {
				t.Fatal(err)
			}
			if got := lines.next(); got != line {
				t.Fatalf("read back %q, want %q (stderr %q)", got, line, stderr.String())
			}
		}
		stdin.Close()
		err = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 4 {
			t.Fatalf("exit %d (%v), want 4; stderr %q", code, err, stderr.String())
		}
	})

	t.Run("-it", func(t *testing.T) {
		cmd := s.cliCommand(t, "sandbox", "exec", "-it", sb.ID, "--", "sh", "-c", "test -t 0 && echo on-a-tty; stty size; read x; stty size; exit 6")
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 101, Rows: 33})
		if err != nil {
			t.Fatal(err)
		}
		defer tty.Close()
		var out bytes.Buffer
		outc := make(chan []byte, 64)
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := tty.Read(buf)
				if n > 0 {
					outc <- append([]byte(nil), buf[:n]...)
				}
				if err != nil {
					close(outc)
					return
				}
			}
		}()
		expect := func(re *regexp.Regexp) {
			t.Helper()
			deadline := time.After(30 * time.Second)
			for !re.Match(out.Bytes()) {
				select {
				case b, ok := <-outc:
					if !ok {
						t.Fatalf("terminal closed waiting for %s; output %q", re, out.String())
					}
					out.Write(b)
				case <-deadline:
					t.Fatalf("waiting for %s; output %q", re, out.String())
				}
			}
			out.Reset()
		}
		expect(regexp.MustCompile(`on-a-tty\r\n33 101\r\n`))
		if err := pty.Setsize(tty, &pty.Winsize{Cols: 120, Rows: 40}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if _, err := tty.Write([]byte("\r")); err != nil {
			t.Fatal(err)
		}
		expect(regexp.MustCompile(`40 120\r\n`))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the CLI did not exit")
		}
		if code := cmd.ProcessState.ExitCode(); code != 6 {
			t.Errorf("exit %d, want 6", code)
		}
	})

	t.Run("-t without a terminal", func(t *testing.T) {
		_, errOut, code := s.cli(t, "", "sandbox", "exec", "-t", sb.ID, "--", "true")
		if code != 2 || !strings.Contains(errOut, "-t needs a terminal") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}
