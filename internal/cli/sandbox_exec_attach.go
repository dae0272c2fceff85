package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// execAttach runs req's command attached (exec -i, -t): the CLI's stdin
// streams to it while it runs. With tty it runs on a terminal in the
// sandbox, this terminal in raw mode and its size followed, like docker
// exec -it. The CLI exits with the command's exit code.
func (a *app) execAttach(cmd *cobra.Command, c *client.Client, name string, req client.ExecRequest, tty bool, timeout time.Duration) error {
	in, stdout, stderr := cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	areq := client.AttachRequest{Cmd: req.Cmd, Env: req.Env, Cwd: req.Cwd, User: req.User, TimeoutMS: req.TimeoutMS, TTY: tty}
	var fd int
	if tty {
		f, ok := in.(interface{ Fd() uintptr })
		if !ok || !a.terminal(in) {
			return usageErr(cmd, "-t needs a terminal on stdin, and stdin is not one: run it from an interactive shell, or use -i alone to pipe input, e.g. echo hi | runtools sandbox exec -i %s -- cat", name)
		}
		fd = int(f.Fd())
		if cols, rows, err := term.GetSize(fd); err == nil {
			areq.Cols, areq.Rows = uint16(cols), uint16(rows)
		}
		if t := a.getenv("TERM"); t != "" && areq.Env["TERM"] == "" {
			env := map[string]string{"TERM": t}
			for k, v := range areq.Env {
				env[k] = v
			}
			areq.Env = env
		}
	}
	ctx := cmd.Context()
	restore := func() {}
	if tty {
		// Raw before the first output arrives, which the terminal would
		// otherwise still translate (\n to \r\n).
		state, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("putting the terminal in raw mode: %w", err)
		}
		restore = sync.OnceFunc(func() { _ = term.Restore(fd, state) })
		defer restore()
	}
	var o execOutcome
	sess, err := c.Attach(ctx, name, areq, client.StreamOptions{Stdout: stdout, Stderr: stderr, OnEvent: o.record})
	if err != nil {
		return sandboxErr(name, err)
	}
	defer sess.Close()
	// Interrupted (SIGINT, SIGTERM to the CLI), the session ends, and
	// with it the command.
	defer context.AfterFunc(ctx, func() { sess.Close() })()
	if tty {
		defer watchResize(func() {
			if cols, rows, err := term.GetSize(fd); err == nil {
				_ = sess.Resize(uint16(cols), uint16(rows))
			}
		})()
	}
	go func() {
		// On a TTY the end of input means nothing (the agent ignores it):
		// there ^D, typed, ends it.
		if _, err := io.Copy(sess, in); err == nil {
			_ = sess.CloseStdin()
		}
	}()
	code, err := sess.Wait()
	restore() // before any message, which raw mode would print askew
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return sandboxErr(name, err)
	}
	o.code = code
	return execExit(stderr, name, req.Cmd, timeout, o)
}
