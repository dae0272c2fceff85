package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// Exit code for a command that ran out of time, as timeout(1) uses.
const exitTimedOut = 124

func (a *app) sandboxExecCmd() *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec NAME [flags] -- CMD [ARGS...]",
		Short: "Run a command in a sandbox",
		Long: `Run a command in a sandbox, stream its stdout and stderr here as it
runs, and exit with its exit code.

Put the command after "--" so its own flags are not taken for exec's.
The command runs exactly as given, without a shell: to use pipes,
redirections or variables, run it through sh -c '...'.

With -i, the CLI's stdin streams to the command while it runs, as it is
typed or piped; the end of the CLI's stdin (end of a pipe or file, or
Ctrl-D) ends the command's. With -t, the command runs on a terminal in the
sandbox, and this terminal is put in raw mode so that keys such as Ctrl-C
and Tab go to the command, and its size follows this window's: -it runs an
interactive shell or program, like docker exec -it. -t needs stdin to be a
terminal, and also sends stdin.

With -d, the command starts in the background and exec prints its PID;
see ` + "`sandbox ps`, `sandbox logs` and `sandbox kill`" + `. With -d -i,
the CLI's stdin is read to its end and given to the command as it starts;
with -d --stdin-open, its stdin stays open for ` + "`sandbox stdin`" + ` to write to.

Exit codes: the command's own; 124 if it ran longer than --timeout; 127
(not found) or 126 (not executable) if it could not start; 1 if the
sandbox could not be reached.`,
		Example: `  runtools sandbox exec my-env -- uname -a
  runtools sandbox exec my-env --cwd /root/app --env NODE_ENV=test -- npm test
  runtools sandbox exec my-env -- sh -c 'ps aux | grep node > /tmp/ps.txt'
  runtools sandbox exec my-env --timeout 30s -- make build
  cat data.csv | runtools sandbox exec my-env -i -- wc -l
  runtools sandbox exec -it my-env -- bash
  runtools sandbox exec my-env -d -- python3 -m http.server 8000
  runtools sandbox exec my-env -d --stdin-open -- python3 -u -i`,
		Args: execArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runExec(cmd, args, &f) },
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(c, "%v (to pass flags to the command, put it after \"--\": runtools sandbox exec NAME -- CMD ARGS...)", err)
	})
	fl := cmd.Flags()
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	fl.StringVar(&f.req.Cwd, "cwd", "", "working directory inside the sandbox")
	fl.StringVar(&f.req.User, "user", "", "user to run as: name, uid or uid:gid (default root)")
	fl.DurationVar(&f.timeout, "timeout", 0, "kill the command after this long, e.g. 30s or 5m (default: no limit)")
	fl.BoolVarP(&f.stdin, "stdin", "i", false, "stream the CLI's stdin to the command while it runs")
	fl.BoolVarP(&f.tty, "tty", "t", false, "run the command on a terminal, with this terminal in raw mode (use with -i)")
	fl.BoolVarP(&f.background, "background", "d", false, "start in the background and print the PID")
	fl.BoolVar(&f.req.StdinOpen, "stdin-open", false, "with -d: keep the command's stdin open, for runtools sandbox stdin")
	return cmd
}

// execFlags are sandbox exec's flags.
type execFlags struct {
	env                    []string
	req                    client.ExecRequest
	timeout                time.Duration
	stdin, tty, background bool
}

// execArgs checks exec's arguments: a sandbox NAME and a command.
func execArgs(cmd *cobra.Command, args []string) error {
	name, argv := splitExecArgs(cmd, args)
	if name == "" && len(argv) == 0 {
		return usageErr(cmd, "exec needs a sandbox NAME and a command, e.g. runtools sandbox exec my-env -- ls -la")
	}
	if err := checkName(cmd, "sandbox NAME", name); err != nil {
		return err
	}
	if len(argv) == 0 {
		return usageErr(cmd, "exec needs a command after the sandbox name, e.g. runtools sandbox exec %s -- ls -la", name)
	}
	return nil
}

// runExec runs exec: in the background (-d), attached (-i, -t) or
// streaming its output.
func (a *app) runExec(cmd *cobra.Command, args []string, f *execFlags) error {
	name, argv := splitExecArgs(cmd, args)
	req := f.req
	var err error
	if req.Env, err = parseKeyValues(cmd, "env", f.env); err != nil {
		return err
	}
	if f.timeout < 0 {
		return usageErr(cmd, "--timeout must be positive, e.g. 30s or 5m")
	}
	req.Cmd, req.TimeoutMS = argv, f.timeout.Milliseconds()
	c, err := a.client()
	if err != nil {
		return err
	}
	if f.background {
		return a.execBackground(cmd, c, name, req, f)
	}
	if req.StdinOpen {
		return usageErr(cmd, "--stdin-open is for background commands (-d); to stream stdin to this one, use -i")
	}
	if f.stdin || f.tty {
		return a.execAttach(cmd, c, name, req, f.tty, f.timeout)
	}
	return a.execStream(cmd, c, name, req, f.timeout)
}

// execBackground starts req's command in the background (exec -d) and
// prints its PID.
func (a *app) execBackground(cmd *cobra.Command, c *client.Client, name string, req client.ExecRequest, f *execFlags) error {
	if f.tty {
		return usageErr(cmd, "-t and -d do not go together: a background command has no terminal")
	}
	if f.stdin && req.StdinOpen {
		return usageErr(cmd, "-i and --stdin-open do not go together: start with --stdin-open, then send input with runtools sandbox stdin %s PID", name)
	}
	if f.stdin {
		var err error
		if req.Stdin, err = io.ReadAll(cmd.InOrStdin()); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
	}
	pid, err := c.Start(cmd.Context(), name, req)
	if err != nil {
		return sandboxErr(name, err)
	}
	writef(cmd.OutOrStdout(), "%d\n", pid)
	return nil
}

// splitExecArgs separates the sandbox name from the command: everything
// after the name. The flag parser drops the first "--"; when it stood
// inside the command (exec NAME git log -- file) it is put back.
func splitExecArgs(cmd *cobra.Command, args []string) (name string, argv []string) {
	if len(args) == 0 {
		return "", nil
	}
	if dash := cmd.ArgsLenAtDash(); dash > 1 {
		argv = append(append(append([]string{}, args[1:dash]...), "--"), args[dash:]...)
		return args[0], argv
	}
	return args[0], args[1:]
}

// execStream runs argv, streaming its output, and turns its outcome into
// the CLI's exit code.
func (a *app) execStream(cmd *cobra.Command, c *client.Client, name string, req client.ExecRequest, timeout time.Duration) error {
	var o execOutcome
	code, err := c.ExecStream(cmd.Context(), name, req, client.StreamOptions{
		Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), OnEvent: o.record,
	})
	if err != nil {
		if o.startErr != "" {
			return errors.New(o.startErr)
		}
		return sandboxErr(name, err)
	}
	o.code = code
	return execExit(cmd.ErrOrStderr(), name, req.Cmd, timeout, o)
}

// execOutcome is how a command ended, as its events said.
type execOutcome struct {
	code     int
	startErr string // why it could not start
	timedOut bool
}

// record notes what an event says of the outcome.
func (o *execOutcome) record(ev client.Event) {
	switch ev.Type {
	case client.EventError:
		o.startErr = ev.Message
	case client.EventExit:
		o.timedOut = ev.TimedOut
	}
}

// execExit reports a command's outcome on stderr and turns it into the
// CLI's exit code.
func execExit(stderr io.Writer, name string, argv []string, timeout time.Duration, o execOutcome) error {
	code := o.code
	switch {
	case o.timedOut:
		if timeout > 0 {
			printErr(stderr, "command timed out after "+timeout.String())
		} else {
			printErr(stderr, "command timed out")
		}
		return &ExitError{Code: exitTimedOut}
	case o.startErr != "":
		msg := o.startErr
		if len(argv) == 1 && strings.ContainsAny(argv[0], " \t") {
			msg += fmt.Sprintf(" (the command is run without a shell: for a command line, use: runtools sandbox exec %s -- sh -c %s)", name, quoteArgs(argv))
		}
		printErr(stderr, msg)
		if code <= 0 {
			code = 127
		}
	}
	if code < 0 || code > 255 {
		code = 1
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
