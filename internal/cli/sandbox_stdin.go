package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// stdinChunk is the most of the CLI's stdin one request carries; a read
// from a terminal or a pipe usually returns less, and is sent at once.
const stdinChunk = 256 << 10

func (a *app) sandboxStdinCmd() *cobra.Command {
	var keepOpen bool
	cmd := &cobra.Command{
		Use:   "stdin NAME PID [--keep-open]",
		Short: "Stream the CLI's stdin to a background process",
		Long: `Send the CLI's stdin to the stdin of a background process while it is
read: each line typed, or each part of a pipe, goes as it comes. The
process must have been started with ` + "`sandbox exec -d --stdin-open`" + `.
At the end of the CLI's stdin (end of a pipe or file, or Ctrl-D) the
process's stdin is closed, as the end of a file, unless --keep-open is
given: then later calls can write more.`,
		Example: `  PID=$(runtools sandbox exec my-env -d --stdin-open -- python3 -u -i)
  echo 'print(6 * 7)' | runtools sandbox stdin my-env $PID --keep-open
  runtools sandbox logs my-env $PID
  runtools sandbox stdin my-env $PID < /dev/null     # close its stdin`,
		Args: argsRange(2, 2, "needs a sandbox NAME and a PID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pid, err := a.processClient(cmd, args)
			if err != nil {
				return err
			}
			ctx, name := cmd.Context(), args[0]
			buf := make([]byte, stdinChunk)
			for {
				n, rerr := cmd.InOrStdin().Read(buf)
				if n > 0 {
					if err := c.SendStdin(ctx, name, pid, buf[:n]); err != nil {
						return err
					}
				}
				if errors.Is(rerr, io.EOF) {
					break
				}
				if rerr != nil {
					return fmt.Errorf("reading stdin: %w", rerr)
				}
			}
			if keepOpen {
				return nil
			}
			return c.CloseStdin(ctx, name, pid)
		},
	}
	cmd.Flags().BoolVar(&keepOpen, "keep-open", false, "leave the process's stdin open at the end of the CLI's")
	return cmd
}
