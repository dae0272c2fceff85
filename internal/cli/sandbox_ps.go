package cli

import (
	"fmt"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxPsCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "ps NAME",
		Short: "List background processes in a sandbox",
		Long: `List the processes started in a sandbox with ` + "`sandbox exec -d`" + `:
their PID, whether they still run, their exit code, whether their stdin is
open to ` + "`sandbox stdin`" + ` (started with --stdin-open, neither closed nor
exited), when they started and their command line.`,
		Example: `  runtools sandbox ps my-env
  runtools sandbox ps my-env -o json`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[[]client.Process]{
		arg:   "sandbox NAME",
		call:  listOf(onSandbox((*client.Client).Processes)),
		print: a.printProcesses,
	})
}

func (a *app) printProcesses(w io.Writer, procs []client.Process) error {
	t := newTable(w, "PID", "STATE", "EXIT", "STDIN", "STARTED", "COMMAND")
	now := a.now()
	for _, p := range procs {
		state, exit := "running", "-"
		if !p.Running {
			state = "exited"
			if p.ExitCode != nil {
				exit = fmt.Sprint(*p.ExitCode)
			}
		}
		stdin := "-"
		if p.StdinOpen {
			stdin = "open"
		}
		t.row(fmt.Sprint(p.PID), state, exit, stdin, age(now, p.StartedAt)+" ago", quoteArgs(p.Cmd))
	}
	return t.flush()
}
