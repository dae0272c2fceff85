package ssh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"time"

	"github.com/creack/pty"
)

// promptRE matches output that ends with a shell prompt: a last line
// ending in "# " (root) or "$ ".
var promptRE = regexp.MustCompile(`[#$] $`)

// loginTimeout bounds one interactive login.
const loginTimeout = 30 * time.Second

// loginToPrompt starts `ssh -tt` on a new terminal and returns how long
// until the output ends with the shell's prompt. Then it types `exit`
// and waits, untimed, for ssh to end.
func (u *sshUser) loginToPrompt(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	c := exec.Command("ssh", u.sshArgs("-tt")...)
	t0 := time.Now()
	ptmx, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80}) // a session of its own: Ctrl-C is the bench's
	if err != nil {
		return 0, fmt.Errorf("starting ssh -tt on a terminal: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = c.Process.Kill()
			<-exited
		}
		ptmx.Close()
	}()

	prompt := make(chan time.Duration, 1)
	var screen bytes.Buffer // the reader's until prompt or its end
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		seen := false
		for {
			n, err := ptmx.Read(buf)
			if !seen {
				screen.Write(buf[:n])
				if promptRE.Match(screen.Bytes()) {
					prompt <- time.Since(t0)
					seen = true
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var d time.Duration
	select {
	case d = <-prompt:
	case <-ctx.Done():
		_ = c.Process.Kill()
		<-readDone
		return 0, fmt.Errorf("ssh -tt: no shell prompt within %s: %w; the terminal showed %q", loginTimeout, ctx.Err(), screen.String())
	case err := <-exited:
		exited <- err // for the deferred wait
		<-readDone
		return 0, fmt.Errorf("ssh -tt ended before a shell prompt (%v); the terminal showed %q", err, screen.String())
	}
	if _, err := io.WriteString(ptmx, "exit\n"); err != nil {
		return 0, fmt.Errorf("typing exit: %w", err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			return 0, fmt.Errorf("ssh -tt: the session ended with %w after `exit`", err)
		}
	case <-ctx.Done():
		return 0, fmt.Errorf("ssh -tt did not end after `exit`: %w", ctx.Err())
	}
	return d, nil
}
