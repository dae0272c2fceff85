package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxCmd() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:     "sandbox",
		Aliases: []string{"sb"},
		Short:   "Create, use and destroy sandboxes",
		Long: `Create, use and destroy sandboxes. Every NAME argument takes a sandbox's
name or its ID.`,
		Example: `  runtools sandbox create --name my-env --template base
  runtools sandbox list
  runtools sandbox exec my-env -- sh -c 'cd /root && ls -la'
  runtools sandbox cp ./app my-env:/root/
  runtools sandbox destroy my-env`,
	},
		a.sandboxCreateCmd(),
		a.sandboxListCmd(),
		a.sandboxGetCmd(),
		a.sandboxDestroyCmd(),
		a.sandboxExecCmd(),
		a.sandboxPsCmd(),
		a.sandboxLogsCmd(),
		a.sandboxKillCmd(),
		a.sandboxStdinCmd(),
		a.sandboxCpCmd(),
		a.sandboxLsCmd(),
		a.sandboxCatCmd(),
		a.sandboxEgressCmd(),
		a.sandboxUpdateCmd(),
		a.sandboxEventsCmd(),
		a.sandboxSnapshotCmd(),
		a.sandboxSnapshotsCmd(),
		a.sandboxSnapshotRmCmd(),
		a.sandboxRollbackCmd(),
		a.sandboxForkCmd(),
		a.sandboxSaveCmd(),
		a.sandboxRunCodeCmd(),
		a.sandboxExposeCmd(true),
		a.sandboxExposeCmd(false),
		a.sandboxURLCmd(),
		a.sandboxSSHCmd(),
		a.sandboxScreenshotCmd(),
		a.sandboxComputerCmd(),
		a.sandboxWatchCmd(),
	)
	cmd.AddCommand(append(a.sandboxLifecycleCmds(), a.sandboxMoveCmd())...)
	return cmd
}

// printSandboxes writes the sandbox table: ID, NAME, TEMPLATE, STATE,
// VCPUS, MEMORY, AGE, and DUE (what its lifetimes do next, and when).
func (a *app) printSandboxes(w io.Writer, sbs []*client.Sandbox) error {
	t := newTable(w, "ID", "NAME", "TEMPLATE", "STATE", "VCPUS", "MEMORY", "AGE", "DUE")
	now := a.now()
	for _, sb := range sbs {
		t.row(sb.ID, orDash(sb.Name), sb.Template, sb.State, fmt.Sprint(sb.VCPUs), memory(sb.MemoryMB), age(now, sb.CreatedAt), a.dueColumn(sb))
	}
	return t.flush()
}

// printSandboxRow writes the sandbox table with sb alone in it.
func (a *app) printSandboxRow(w io.Writer, sb *client.Sandbox) error {
	return a.printSandboxes(w, []*client.Sandbox{sb})
}

func memory(mb int) string { return fmt.Sprintf("%d MB", mb) }

// printSandbox writes one sandbox as "key: value" lines.
func (a *app) printSandbox(w io.Writer, sb *client.Sandbox) error {
	t := newFields(w)
	field := func(k, v string) { t.row(k+":", v) }
	field("id", sb.ID)
	field("name", orDash(sb.Name))
	field("state", sb.State)
	if sb.StopReason != "" {
		field("stop reason", sb.StopReason)
	}
	field("template", sb.Template)
	if sb.Team != "" {
		field("team", sb.Team)
	}
	field("vcpus", fmt.Sprint(sb.VCPUs))
	field("memory", memory(sb.MemoryMB))
	diskFields(sb, field)
	field("ip", orDash(sb.IP))
	urls := make([]string, len(sb.URLs))
	for i, u := range sb.URLs {
		urls[i] = u.URL
	}
	listField(t, "urls", urls)
	if len(sb.URLs) > 0 {
		if sb.Public {
			field("access", "public")
		} else {
			field("access", "private: header X-Runtools-Access-Token: "+sb.AccessToken)
		}
	}
	if sb.SSH != nil {
		field("ssh", sb.SSH.Command)
	}
	if sb.Desktop {
		desktop := "starting"
		if sb.VNCReady {
			desktop = "ready"
		}
		for _, u := range sb.URLs {
			if u.Port == 6901 {
				desktop += ": " + u.URL
			}
		}
		field("desktop", desktop)
	}
	if e := sb.Egress; e.Default == "deny" || len(e.Allow)+len(e.Deny) > 0 {
		egress := "deny by default"
		if e.Default != "deny" {
			egress = "allow by default"
		}
		if len(e.Allow) > 0 {
			egress += "; allow " + strings.Join(e.Allow, ", ")
		}
		if len(e.Deny) > 0 {
			egress += "; deny " + strings.Join(e.Deny, ", ")
		}
		field("egress", egress)
	}
	if sb.IdleTimeout > 0 {
		field("idle timeout", (time.Duration(sb.IdleTimeout) * time.Second).String())
	} else {
		field("idle timeout", "never")
	}
	a.lifetimeFields(t, sb, field)
	field("created", a.timestamp(sb.CreatedAt))
	if sb.StoppedAt != nil {
		field("stopped", a.timestamp(*sb.StoppedAt))
	}
	mapField(t, "env", sb.Env)
	mapField(t, "metadata", sb.Metadata)
	var vols []string
	for _, v := range sb.Volumes {
		mount := v.Volume + " at " + v.Path
		if v.ReadOnly {
			mount += " (read-only)"
		}
		vols = append(vols, mount)
	}
	listField(t, "volumes", vols)
	return t.flush()
}

// timestamp formats a time with how long ago it was.
func (a *app) timestamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s ago)", t.Local().Format(time.DateTime), age(a.now(), t))
}

// mapField prints a map as K=V values, one per line, sorted by key.
func mapField(t *table, name string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + m[k]
	}
	listField(t, name, lines)
}

// listField writes a field of several values, one a line, the name on the
// first only.
func listField(t *table, name string, values []string) {
	for i, v := range values {
		label := name + ":"
		if i > 0 {
			label = ""
		}
		t.row(label, v)
	}
}

// sandboxErr adds a hint to errors of calls that name only a sandbox, so
// not found can only mean the sandbox.
func sandboxErr(ref string, err error) error {
	if errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("%w (no sandbox %q: see `runtools sandbox list`)", err, ref)
	}
	return err
}

// each is what a command does that makes one call on every sandbox NAME it
// is given, in turn, after checking them all: a failure is printed as
// "error: DOING NAME: ..." and the rest still go, then the exit code is 1.
type each struct {
	doing, done     string // "pausing", "paused"
	call            func(cmd *cobra.Command, c *client.Client, name string) error
	stopOnInterrupt bool // end at the failure an interrupt causes
}

// eachSandboxCmd gives cmd the arguments NAME... and a RunE that does e.
func (a *app) eachSandboxCmd(cmd *cobra.Command, e each) *cobra.Command {
	cmd.Args = argsRange(1, -1, "needs at least one sandbox NAME or ID")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
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
			if err := e.call(cmd, c, name); err != nil {
				failed++
				printErr(cmd.ErrOrStderr(), explain(fmt.Errorf("%s %s: %w", e.doing, name, sandboxErr(name, err))))
				if e.stopOnInterrupt && cmd.Context().Err() != nil {
					return cmd.Context().Err()
				}
				continue
			}
			writef(cmd.OutOrStdout(), "%s %s\n", e.done, name)
		}
		if failed > 0 {
			return &ExitError{Code: 1}
		}
		return nil
	}
	return cmd
}

// diskFields prints a sandbox's disk, and how to start it when stopped.
func diskFields(sb *client.Sandbox, field func(name, value string)) {
	if sb.DiskMB > 0 {
		disk := memory(sb.DiskMB)
		if sb.Disk != "" {
			disk += ", " + sb.Disk
		}
		field("disk", disk)
	}
	if sb.State == client.StateStopped {
		start := "runtools sandbox start " + sb.ID
		if sb.AutoStart {
			start += ", or any use of it"
		}
		field("start with", start)
	}
}
