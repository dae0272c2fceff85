package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxPauseCmd() *cobra.Command {
	return a.lifecycleCmd("pause", "Save a sandbox to disk and stop it",
		`Save a sandbox's memory, processes and disk to disk and stop it. A paused
sandbox uses no CPU or memory, only disk. It keeps its ID, name and IP.

Any use of a paused sandbox (exec, files, ...) wakes it first, so pausing is
always safe. Sandboxes are also paused on their own after their idle
timeout (see create --idle-timeout and update).`,
		"  runtools sandbox pause my-env", "pausing", "paused", (*client.Client).Pause)
}

func (a *app) sandboxResumeCmd() *cobra.Command {
	return a.lifecycleCmd("resume", "Bring a paused sandbox back",
		`Bring a paused sandbox back exactly as it was: the same processes, open
ports and files. Resuming is usually not needed: any use wakes a paused
sandbox by itself.`,
		"  runtools sandbox resume my-env", "resuming", "resumed", (*client.Client).Resume)
}

// lifecycleCmd makes a command that applies one call to each NAME.
func (a *app) lifecycleCmd(verb, short, long, example, doing, done string,
	call func(*client.Client, context.Context, string) (*client.Sandbox, error)) *cobra.Command {
	return &cobra.Command{
		Use:     verb + " NAME...",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    argsRange(1, -1, "needs at least one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				if err := checkName(cmd, "sandbox NAME", name); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			failed := 0
			for _, name := range args {
				p := a.startProgress(cmd.ErrOrStderr(), "%s %s", doing, name)
				_, err := call(c, cmd.Context(), name)
				p.end(err)
				if err != nil {
					failed++
					printErr(cmd.ErrOrStderr(), explain(fmt.Errorf("%s %s: %w", doing, name, sandboxErr(name, err))))
					continue
				}
				writef(cmd.OutOrStdout(), "%s %s\n", done, name)
			}
			if failed > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
}

func (a *app) sandboxUpdateCmd() *cobra.Command {
	var idle int
	cmd := &cobra.Command{
		Use:   "update NAME --idle-timeout SECONDS",
		Short: "Change a sandbox's settings",
		Long: `Change a sandbox's settings. --idle-timeout is how many seconds the
sandbox may go without activity (commands, file calls, open streams, CPU
above 5%) before it is paused; 0 never pauses it.`,
		Example: `  runtools sandbox update my-env --idle-timeout 3600
  runtools sandbox update my-env --idle-timeout 0`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			if !cmd.Flags().Changed("idle-timeout") {
				return usageErr(cmd, "nothing to change: pass --idle-timeout SECONDS")
			}
			if idle < 0 {
				return usageErr(cmd, "--idle-timeout is in seconds, 0 never pauses")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			sb, err := c.SetIdleTimeout(cmd.Context(), args[0], idle)
			if err != nil {
				return sandboxErr(args[0], err)
			}
			return a.printSandbox(cmd.OutOrStdout(), sb)
		},
	}
	cmd.Flags().IntVar(&idle, "idle-timeout", 0, "seconds without activity before the sandbox is paused; 0 never pauses")
	return cmd
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
		fetch: listOf(onSandbox((*client.Client).Events)),
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
