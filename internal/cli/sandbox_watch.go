package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runtools/runtools/client"
)

func (a *app) sandboxWatchCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "watch NAME",
		Short: "Watch a sandbox live: state, CPU, memory, network, disk",
		Long: `Show a sandbox's state, readiness and resource use, redrawn in place every
second like top, until Ctrl-C. Status changes are listed as they happen.

-o json prints one event per line instead (status changes, with their seq,
and metrics), for scripts.`,
		Example: `  runtools sandbox watch my-env
  runtools sandbox watch my-env -o json | jq -c 'select(.type == "status")'`,
		Args: argsRange(1, 1, "needs a sandbox NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, c, err := a.begin(cmd, format, "", "")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var view *watchView
			if !asJSON {
				view = &watchView{w: out, name: args[0], redraw: a.terminal(out), now: a.now}
			}
			err = c.Watch(cmd.Context(), args[0], client.WatchOptions{}, func(ev client.WatchEvent) error {
				if asJSON {
					line, err := json.Marshal(ev)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(out, "%s\n", line)
					return err
				}
				return view.update(ev)
			})
			if errors.Is(err, cmd.Context().Err()) && cmd.Context().Err() != nil {
				return nil // Ctrl-C
			}
			return sandboxErr(args[0], err)
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

// watchView draws the live view: a header with the latest status and
// metrics, and the status changes seen so far.
type watchView struct {
	w       io.Writer
	name    string
	redraw  bool // a terminal: draw in place; else append plain lines
	now     func() time.Time
	status  *client.Status
	metrics *client.Metrics
	changes []string
}

func (v *watchView) update(ev client.WatchEvent) error {
	switch {
	case ev.Status != nil:
		v.status = ev.Status
		line := fmt.Sprintf("%s  %-9s %s", ev.Status.At.Local().Format("15:04:05"), ev.Status.State, ev.Status.Reason)
		v.changes = append(v.changes, line)
		if len(v.changes) > 10 {
			v.changes = v.changes[len(v.changes)-10:]
		}
		if !v.redraw {
			_, err := fmt.Fprintf(v.w, "status   %s\n", line)
			return err
		}
	case ev.Metrics != nil:
		v.metrics = ev.Metrics
		if !v.redraw {
			m := ev.Metrics
			_, err := fmt.Fprintf(v.w, "metrics  cpu %.1f%%  mem %.1f%% (%s)  net rx %s/s tx %s/s  disk %s\n",
				m.CPUPercent, m.MemPercent, bytesIEC(m.MemBytes), bytesIEC(int64(m.NetRxBytesPerSec)), bytesIEC(int64(m.NetTxBytesPerSec)), bytesIEC(m.DiskUsedBytes))
			return err
		}
	}
	if !v.redraw {
		return nil
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J") // home, clear
	fmt.Fprintf(&b, "runtools sandbox watch %s   %s   (Ctrl-C to quit)\n\n", v.name, v.now().Format("15:04:05"))
	if s := v.status; s != nil {
		fmt.Fprintf(&b, "  state     %s\n  ssh       %s\n", s.State, yesNo(s.SSHReady, "ready", "-"))
		fmt.Fprintf(&b, "  desktop   %s\n", yesNo(s.VNCReady, "ready", "-"))
	}
	if m := v.metrics; m != nil {
		fmt.Fprintf(&b, "\n  cpu       %5.1f%%  %s\n", m.CPUPercent, bar(m.CPUPercent))
		fmt.Fprintf(&b, "  memory    %5.1f%%  %s  %s of %s\n", m.MemPercent, bar(m.MemPercent), bytesIEC(m.MemBytes), bytesIEC(m.MemLimitBytes))
		fmt.Fprintf(&b, "  net rx    %s/s\n  net tx    %s/s\n", bytesIEC(int64(m.NetRxBytesPerSec)), bytesIEC(int64(m.NetTxBytesPerSec)))
		fmt.Fprintf(&b, "  disk      %s of %s\n", bytesIEC(m.DiskUsedBytes), bytesIEC(m.DiskLimitBytes))
	} else if v.status != nil && v.status.State == "running" {
		b.WriteString("\n  (metrics in a second)\n")
	}
	b.WriteString("\n  changes\n")
	for _, c := range v.changes {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	_, err := io.WriteString(v.w, b.String())
	return err
}

func yesNo(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// bar draws a percentage as 20 cells.
func bar(pct float64) string {
	n := int(pct/5 + 0.5)
	n = max(0, min(n, 20))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "]"
}

// bytesIEC formats a byte count: 512 B, 1.5 KiB, 20.0 MiB.
func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
