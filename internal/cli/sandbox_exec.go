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
	var (
		env        []string
		req        client.ExecRequest
		timeout    time.Duration
		stdin      bool
		background bool
	)
	cmd := &cobra.Command{
		Use:   "exec NAME [flags] -- CMD [ARGS...]",
		Short: "Run a command in a sandbox",
		Long: `Run a command in a sandbox, stream its stdout and stderr here as it
runs, and exit with its exit code.

Put the command after "--" so its own flags are not taken for exec's.
The command runs exactly as given, without a shell: to use pipes,
redirections or variables, run it through sh -c '...'.

With -i, the CLI reads its own stdin to the end and then sends it as the
command's stdin: the command gets its input once the CLI's stdin ends
(end of a pipe or file, or Ctrl-D at a terminal); it is not interactive.

With -d, the command starts in the background and exec prints its PID;
see ` + "`sandbox ps`, `sandbox logs` and `sandbox kill`" + `.

Exit codes: the command's own; 124 if it ran longer than --timeout; 127
(not found) or 126 (not executable) if it could not start; 1 if the
sandbox could not be reached.`,
		Example: `  runtools sandbox exec my-env -- uname -a
  runtools sandbox exec my-env --cwd /root/app --env NODE_ENV=test -- npm test
  runtools sandbox exec my-env -- sh -c 'ps aux | grep node > /tmp/ps.txt'
  runtools sandbox exec my-env --timeout 30s -- make build
  cat data.csv | runtools sandbox exec my-env -i -- wc -l
  runtools sandbox exec my-env -d -- python3 -m http.server 8000`,
		Args: func(cmd *cobra.Command, args []string) error {
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
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, argv := splitExecArgs(cmd, args)
			var err error
			if req.Env, err = parseKeyValues(cmd, "env", env); err != nil {
				return err
			}
			if timeout < 0 {
				return usageErr(cmd, "--timeout must be positive, e.g. 30s or 5m")
			}
			req.Cmd, req.TimeoutMS = argv, timeout.Milliseconds()
			c, err := a.client()
			if err != nil {
				return err
			}
			if stdin {
				if a.terminal(cmd.InOrStdin()) && a.terminal(cmd.ErrOrStderr()) {
					writef(cmd.ErrOrStderr(), "reading stdin until end of input (Ctrl-D)...\n")
				}
				if req.Stdin, err = io.ReadAll(cmd.InOrStdin()); err != nil {
					return fmt.Errorf("reading stdin: %w", err)
				}
			}
			if background {
				pid, err := c.Start(cmd.Context(), name, req)
				if err != nil {
					return sandboxErr(name, err)
				}
				writef(cmd.OutOrStdout(), "%d\n", pid)
				return nil
			}
			return a.execStream(cmd, c, name, req, timeout)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(c, "%v (to pass flags to the command, put it after \"--\": runtools sandbox exec NAME -- CMD ARGS...)", err)
	})
	f := cmd.Flags()
	f.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	f.StringVar(&req.Cwd, "cwd", "", "working directory inside the sandbox")
	f.StringVar(&req.User, "user", "", "user to run as: name, uid or uid:gid (default root)")
	f.DurationVar(&timeout, "timeout", 0, "kill the command after this long, e.g. 30s or 5m (default: no limit)")
	f.BoolVarP(&stdin, "stdin", "i", false, "send the CLI's stdin to the command, once it ends")
	f.BoolVarP(&background, "background", "d", false, "start in the background and print the PID")
	return cmd
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
	var startErr string
	var timedOut bool
	code, err := c.ExecStream(cmd.Context(), name, req, client.StreamOptions{
		Stdout: cmd.OutOrStdout(),
		Stderr: cmd.ErrOrStderr(),
		OnEvent: func(ev client.Event) {
			switch ev.Type {
			case client.EventError:
				startErr = ev.Message
			case client.EventExit:
				timedOut = ev.TimedOut
			}
		},
	})
	if err != nil {
		if startErr != "" {
			return errors.New(startErr)
		}
		return sandboxErr(name, err)
	}
	stderr := cmd.ErrOrStderr()
	switch {
	case timedOut:
		if timeout > 0 {
			printErr(stderr, "command timed out after "+timeout.String())
		} else {
			printErr(stderr, "command timed out")
		}
		return &ExitError{Code: exitTimedOut}
	case startErr != "":
		msg := startErr
		if len(req.Cmd) == 1 && strings.ContainsAny(req.Cmd[0], " \t") {
			msg += fmt.Sprintf(" (the command is run without a shell: for a command line, use: runtools sandbox exec %s -- sh -c %s)", name, quoteArgs(req.Cmd))
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
