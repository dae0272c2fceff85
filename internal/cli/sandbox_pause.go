package cli

import (
	"context"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// lifecycle is a command that moves sandboxes to another state.
type lifecycle struct {
	verb, short, long string
	doing, done       string
	method            func(*client.Client, context.Context, string) (*client.Sandbox, error)
}

var lifecycles = []lifecycle{
	{"pause", "Save a sandbox to disk and stop it",
		`Save a sandbox's memory, processes and disk to disk and stop it. A paused
sandbox uses no CPU or memory, only disk. It keeps its ID, name and IP.

Any use of a paused sandbox (exec, files, ...) wakes it first, so pausing is
always safe. Sandboxes are also paused on their own after their idle
timeout (see create --idle-timeout and update).`, "pausing", "paused", (*client.Client).Pause},
	{"resume", "Bring a paused sandbox back",
		`Bring a paused sandbox back exactly as it was: the same processes, open
ports and files. Resuming is usually not needed: any use wakes a paused
sandbox by itself.`, "resuming", "resumed", (*client.Client).Resume},
	{"stop", "End a sandbox's processes and keep its disk",
		`Stop a sandbox: its processes end and it uses no CPU or memory. It keeps
its ID, name, IP, URLs and disk (unless its disk is ephemeral), and starts
again with 'runtools sandbox start', or by any use of it (exec, files, SSH,
its URLs) unless it was created with --auto-start=false.

Stop keeps the disk only; pause keeps memory and processes too. A stopped
paused sandbox loses what was in its memory.`, "stopping", "stopped", (*client.Client).Stop},
	{"start", "Boot a stopped sandbox from its disk",
		`Start a stopped sandbox, one you stopped or one that crashed: it boots from
its disk with the same ID, name, IP, URLs, SSH and limits. Its processes
start fresh, as after a reboot, and its template's start command runs again.
A sandbox with an ephemeral disk starts from its template again.
Starting a paused sandbox resumes it; a running one is left as it is.`, "starting", "started", (*client.Client).Boot},
}

// sandboxLifecycleCmds are pause, resume, stop and start.
func (a *app) sandboxLifecycleCmds() []*cobra.Command {
	var cmds []*cobra.Command
	for _, l := range lifecycles {
		cmds = append(cmds, a.lifecycleCmd(&cobra.Command{
			Use: l.verb + " NAME...", Short: l.short, Long: l.long,
			Example: "  runtools sandbox " + l.verb + " my-env",
		}, l.doing, l.done, l.method))
	}
	return cmds
}

// lifecycleCmd is eachSandboxCmd for method, with a progress line for each
// sandbox on a terminal.
func (a *app) lifecycleCmd(cmd *cobra.Command, doing, done string, method func(*client.Client, context.Context, string) (*client.Sandbox, error)) *cobra.Command {
	return a.eachSandboxCmd(cmd, each{doing: doing, done: done, call: func(cmd *cobra.Command, c *client.Client, name string) error {
		p := a.startProgress(cmd.ErrOrStderr(), "%s %s", doing, name)
		_, err := method(c, cmd.Context(), name)
		p.end(err)
		return err
	}})
}

func (a *app) sandboxUpdateCmd() *cobra.Command {
	var f updateFlags
	cmd := &cobra.Command{
		Use:   "update NAME [--idle-timeout SECONDS] [--auto-start=true|false] [--timeout DURATION] [--label K=V|K-]",
		Short: "Change a sandbox's settings",
		Long: `Change a sandbox's settings. --idle-timeout is how many seconds the
sandbox may go without activity (commands, file calls, open streams, CPU
above 5%) before it is paused; 0 never pauses it. --auto-start says
whether a use of the sandbox while it is stopped starts it.

--timeout sets the sandbox's hard lifetime anew, counted from now (90s,
30m, 2h, or seconds; 0 removes it), and --on-timeout what it does then
(destroy or pause). --label KEY=VALUE sets a label, --label KEY- removes
one.`,
		Example: `  runtools sandbox update my-env --idle-timeout 3600
  runtools sandbox update my-env --idle-timeout 0
  runtools sandbox update my-env --auto-start=false
  runtools sandbox update my-env --timeout 1h
  runtools sandbox update my-env --timeout 0
  runtools sandbox update my-env --label env=prod --label scratch-`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			req, err := f.request(cmd)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			sb, err := c.Update(cmd.Context(), args[0], req)
			if err != nil {
				return sandboxErr(args[0], err)
			}
			return a.printSandbox(cmd.OutOrStdout(), sb)
		},
	}
	f.add(cmd)
	return cmd
}

// updateFlags are the flags that make sandbox update's request.
type updateFlags struct {
	idle      int
	autoStart bool
	timeout   string
	onTimeout string
	labels    []string
}

func (f *updateFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.idle, "idle-timeout", 0, "seconds without activity before the sandbox is paused; 0 never pauses")
	fl.BoolVar(&f.autoStart, "auto-start", true, "a use of the sandbox while it is stopped starts it")
	fl.StringVar(&f.timeout, "timeout", "", "hard lifetime from now (90s, 30m, 2h, or seconds); 0 removes it")
	fl.StringVar(&f.onTimeout, "on-timeout", "", "what the timeout does: destroy or pause (with --timeout)")
	fl.StringArrayVar(&f.labels, "label", nil, "set a label KEY=VALUE, or remove one with KEY- (repeatable)")
}

// request checks the flags and returns the request they make.
func (f *updateFlags) request(cmd *cobra.Command) (client.UpdateRequest, error) {
	var req client.UpdateRequest
	changed := cmd.Flags().Changed
	if changed("idle-timeout") {
		if f.idle < 0 {
			return req, usageErr(cmd, "--idle-timeout is in seconds, 0 never pauses")
		}
		req.IdleTimeout = &f.idle
	}
	if changed("auto-start") {
		req.AutoStart = &f.autoStart
	}
	if changed("timeout") {
		secs, err := parseLifetime(cmd, "timeout", f.timeout)
		if err != nil {
			return req, err
		}
		req.Timeout = &secs
	} else if f.onTimeout != "" {
		return req, usageErr(cmd, "--on-timeout goes with --timeout")
	}
	if err := checkOnTimeout(cmd, f.onTimeout); err != nil {
		return req, err
	}
	req.OnTimeout = f.onTimeout
	var err error
	if req.Labels, req.RemoveLabels, err = parseLabelChanges(cmd, f.labels); err != nil {
		return req, err
	}
	if req.IdleTimeout == nil && req.AutoStart == nil && req.Timeout == nil && len(f.labels) == 0 {
		return req, usageErr(cmd, "nothing to change: pass --idle-timeout SECONDS, --auto-start=true|false, --timeout DURATION or --label K=V|K-")
	}
	return req, nil
}

func (a *app) sandboxEventsCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "events NAME",
		Short:   "Show a sandbox's state changes",
		Long:    `Show every recorded change of a sandbox's state, oldest first, with why it happened.`,
		Example: `  runtools sandbox events my-env`,
		Args:    argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[[]client.SandboxEvent]{
		arg:   "sandbox NAME",
		call:  listOf(onSandbox((*client.Client).Events)),
		print: printEvents,
	})
}

func printEvents(w io.Writer, events []client.SandboxEvent) error {
	t := newTable(w, "TIME", "FROM", "TO", "WHY")
	for _, ev := range events {
		t.row(ev.At.Local().Format("2006-01-02 15:04:05.000"), orDash(ev.From), ev.To, orDash(ev.Why))
	}
	return t.flush()
}
