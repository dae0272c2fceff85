package cli

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/runtools/runtools/internal/mcpserver"
)

func (a *app) mcpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol on stdin and stdout, for AI agents",
		Long: `Serve the Model Context Protocol (MCP) on stdin and stdout, so that an AI
agent (Claude Desktop, Claude Code, Cursor, ...) can create sandboxes, run
commands and code in them, move files and use their desktops.

The agent's MCP client starts this command itself. It finds the server and
the API key like every other command: --url and --api-key, RUNTOOLS_URL and
RUNTOOLS_API_KEY, then the file written by ` + "`runtools login`" + `.
Logs go to stderr. The server also serves MCP over HTTP at /mcp.`,
		Example: `  claude mcp add runtools -- runtools mcp
  RUNTOOLS_API_KEY=rt_... runtools mcp`,
		Args: argsRange(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			o := mcpserver.Options{Version: a.version, Log: log}
			return mcpserver.ServeStdio(cmd.Context(), mcpserver.ForClient(c), o, readCloser(cmd.InOrStdin()), writeCloser(cmd.OutOrStdout()))
		},
	}
}

// readCloser is r, closed if it can be.
func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	return io.NopCloser(r)
}

// writeCloser is w, closed if it can be; os.Stdout stays open.
func writeCloser(w io.Writer) io.WriteCloser {
	if wc, ok := w.(io.WriteCloser); ok && w != os.Stdout {
		return wc
	}
	return nopWriteCloser{w}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
