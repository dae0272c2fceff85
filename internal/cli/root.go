// Package cli is the runtools command-line interface. Every command is a
// thin user of the public Go client in package client: it parses flags,
// calls the client and prints the answer for people (tables) or programs
// (-o json).
package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// app holds what every command shares: connection flags and the few things
// tests replace (environment, clock, terminal detection).
type app struct {
	version string
	url     string // --url
	apiKey  string // --api-key

	getenv   func(string) string
	now      func() time.Time
	terminal func(f any) bool // reports whether f is an interactive terminal
}

func newApp(version string) *app {
	return &app{version: version, getenv: os.Getenv, now: time.Now, terminal: isTerminal}
}

// isTerminal reports whether v is a file attached to a terminal.
func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewRoot returns the root `runtools` command with every CLI command added,
// plus extra (the server and agent commands, which live elsewhere).
func NewRoot(version string, extra ...*cobra.Command) *cobra.Command {
	return newApp(version).root(extra...)
}

func (a *app) root(extra ...*cobra.Command) *cobra.Command {
	root := group(&cobra.Command{
		Use:   "runtools",
		Short: "Isolated Linux sandboxes on demand",
		Long: `runtools hands out isolated Linux sandboxes on demand: create one from a
template, run commands in it, copy files in and out, and destroy it.

The CLI talks to a runtools server. It finds the server and the API key in
this order: the --url and --api-key flags, the RUNTOOLS_URL and
RUNTOOLS_API_KEY environment variables, then the file written by
` + "`runtools login`" + `.`,
		Example: `  runtools login --url http://127.0.0.1:7070
  runtools sandbox create --name my-env
  runtools sandbox exec my-env -- uname -a
  runtools sandbox destroy my-env`,
		Version:           a.version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	},
		a.loginCmd(),
		a.sandboxCmd(),
		a.templateCmd(),
		a.teamCmd(),
		a.usageCmd(),
		a.nodeCmd(),
		a.keyCmd(),
		a.sshKeyCmd(),
		a.volumeCmd(),
		a.webhookCmd(),
		a.mcpCmd(),
		a.versionCmd(),
	)
	root.SetVersionTemplate("runtools {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr(c, "%v", err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", "", "runtools server URL (default $RUNTOOLS_URL, the login config, or "+client.DefaultURL+")")
	pf.StringVar(&a.apiKey, "api-key", "", "API key (default $RUNTOOLS_API_KEY or the login config)")
	root.AddCommand(extra...)
	return root
}

// group adds subs to cmd, which only holds them: its RunE is groupRun.
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args, cmd.RunE = cobra.ArbitraryArgs, groupRun
	cmd.AddCommand(subs...)
	return cmd
}

// groupRun is the RunE of commands that only hold subcommands: with no
// argument it shows help, otherwise the argument names no subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := "unknown command %q for %q"
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageErr(cmd, msg+"; did you mean %q?", args[0], cmd.CommandPath(), s[0])
	}
	return usageErr(cmd, msg, args[0], cmd.CommandPath())
}

// Execute runs the root command and returns the process exit code: 0 on
// success, the command's own code for `sandbox exec`, 2 for usage errors
// and 1 for every other error, which it prints as "error: ..." on stderr.
func Execute(root *cobra.Command) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return execute(ctx, root)
}

func execute(ctx context.Context, root *cobra.Command) int {
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	return report(ctx, root.ErrOrStderr(), cmd, err)
}

// report prints err for people and picks the exit code.
func report(ctx context.Context, stderr io.Writer, cmd *cobra.Command, err error) int {
	if code, ok := exitCode(err); ok {
		return code
	}
	if ctx.Err() != nil {
		printErr(stderr, "interrupted")
		return 130
	}
	printErr(stderr, explain(err))
	if u, ok := asUsage(err); ok {
		if u.cmd != nil {
			cmd = u.cmd
		}
		if cmd != nil {
			writef(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return 2
	}
	return 1
}

func goVersion() string { return runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH }
