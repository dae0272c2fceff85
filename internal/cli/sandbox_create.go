package cli

import (
	"fmt"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxCreateCmd() *cobra.Command {
	var (
		f      createFlags
		format string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "create [--name NAME] [--template base] [flags]",
		Short: "Create a sandbox and wait until it runs",
		Long: `Create a sandbox from a template and wait until it is running.

Without --name the sandbox gets only its generated ID; either works as NAME
in the other sandbox commands. --env sets variables every command in the
sandbox sees; --metadata attaches data of your own; --label attaches labels
to find it by (sandbox list --label K=V): keys NAME or PREFIX/NAME, names
and values up to 63 letters, digits, '-', '_' and '.', at most 64.

--timeout gives the sandbox a hard lifetime (90s, 30m, 2h, or seconds):
when it runs out the sandbox is destroyed (its record kept, with the
reason timeout), or paused with --on-timeout pause. A timeout-warning
event comes a minute before; 'sandbox update --timeout' extends it.

--volume mounts a volume of your team (see 'runtools volume') at an
absolute path, read-write, or read-only with :ro. Sandboxes that mount one
volume see each other's writes; it outlives them, their pauses,
rollbacks (which do not roll it back) and forks (which share it).`,
		Example: `  runtools sandbox create --name my-env
  runtools sandbox create --name web --template base --vcpus 4 --memory 2048 --env NODE_ENV=production
  runtools sandbox create --template base --idle-timeout 1800
  id=$(runtools sandbox create -q)
  runtools sandbox create --metadata owner=alice -o json
  runtools sandbox create --label app=web --label env=staging --timeout 2h
  runtools sandbox create --timeout 30m --on-timeout pause
  runtools sandbox create --volume data:/mnt/data --volume models:/models:ro
  runtools sandbox create --name agent --egress-allow api.openai.com --egress-allow '*.pypi.org'`,
		Args: argsRange(0, 0, "takes no arguments; name the sandbox with --name"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := wantJSON(cmd, format)
			if err != nil {
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
			what := "a sandbox"
			if req.Name != "" {
				what = "sandbox " + req.Name
			}
			p := a.startProgress(cmd.ErrOrStderr(), "creating %s from %s", what, orDefault(req.Template, "the default template"))
			sb, err := c.Create(cmd.Context(), req)
			p.end(err)
			if err != nil {
				return fmt.Errorf("creating %s: %w", what, err)
			}
			switch {
			case quiet:
				writef(cmd.OutOrStdout(), "%s\n", sb.ID)
				return nil
			case asJSON:
				return printJSON(cmd.OutOrStdout(), sb)
			}
			return a.printSandboxRow(cmd.OutOrStdout(), sb)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the sandbox ID")
	addOutputFlag(cmd, &format)
	return cmd
}

// createFlags are the flags that make sandbox create's request.
type createFlags struct {
	req           client.CreateRequest
	env, metadata []string
	labels        []string
	volumes       []string
	timeout       string
	idle          int
	autoStart     bool
	ports         []int
	egress        egressFlags
}

func (f *createFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.req.Name, "name", "", "sandbox name, unique in your team")
	fl.StringVar(&f.req.Template, "template", "", "template to start from, see 'runtools template list' (server default: base)")
	fl.IntVar(&f.req.VCPUs, "vcpus", 0, "virtual CPUs (server default: 2)")
	fl.IntVar(&f.req.MemoryMB, "memory", 0, "memory in MB (server default: 1024)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE for every command (repeatable)")
	fl.StringArrayVar(&f.metadata, "metadata", nil, "data of your own KEY=VALUE (repeatable)")
	fl.StringArrayVar(&f.labels, "label", nil, "label KEY=VALUE to find the sandbox by (repeatable)")
	fl.StringArrayVar(&f.volumes, "volume", nil, "mount your team's volume NAME:/PATH, or NAME:/PATH:ro read-only (repeatable; see 'runtools volume')")
	fl.StringVar(&f.timeout, "timeout", "", "hard lifetime (90s, 30m, 2h, or seconds): then it is destroyed, or see --on-timeout")
	fl.StringVar(&f.req.OnTimeout, "on-timeout", "", "what the timeout does: destroy (default) or pause")
	fl.StringVar(&f.req.Password, "password", "", "SSH password for this sandbox (8-72 characters); team SSH keys work regardless")
	fl.BoolVar(&f.req.Public, "public", false, "serve the dev-server URLs to anyone, without the access token")
	fl.IntSliceVar(&f.ports, "port", nil, "expose this port too, besides 3000, 3001, 5173, 8000, 8080 (repeatable)")
	fl.IntVar(&f.idle, "idle-timeout", 600, "pause the sandbox after this many seconds without activity; 0 never pauses")
	fl.StringVar(&f.req.Disk, "disk", "", "durable (server default: on the host, what is fsynced outlives a crash) or ephemeral (in memory: faster, gone with a crash or stop)")
	fl.BoolVar(&f.autoStart, "auto-start", true, "a use of the sandbox while it is stopped (exec, files, SSH, URLs) starts it")
	f.egress.add(cmd)
}

// request checks the flags and returns the request they make.
func (f *createFlags) request(cmd *cobra.Command) (client.CreateRequest, error) {
	req := f.req
	var err error
	if req.Env, err = parseKeyValues(cmd, "env", f.env); err != nil {
		return req, err
	}
	if req.Metadata, err = parseKeyValues(cmd, "metadata", f.metadata); err != nil {
		return req, err
	}
	if req.Labels, err = parseKeyValues(cmd, "label", f.labels); err != nil {
		return req, err
	}
	for _, v := range f.volumes {
		mt, err := client.ParseVolumeMount(v)
		if err != nil {
			return req, usageErr(cmd, "--volume: %v", err)
		}
		req.Volumes = append(req.Volumes, mt)
	}
	if f.timeout != "" {
		if req.Timeout, err = parseLifetime(cmd, "timeout", f.timeout); err != nil {
			return req, err
		}
	}
	if err := checkOnTimeout(cmd, req.OnTimeout); err != nil {
		return req, err
	}
	if req.VCPUs < 0 || req.MemoryMB < 0 {
		return req, usageErr(cmd, "--vcpus and --memory must be positive")
	}
	req.Ports = f.ports
	if cmd.Flags().Changed("auto-start") {
		req.AutoStart = &f.autoStart
	}
	if req.Disk != "" && req.Disk != "durable" && req.Disk != "ephemeral" {
		return req, usageErr(cmd, "--disk is durable or ephemeral, got %q", req.Disk)
	}
	if cmd.Flags().Changed("idle-timeout") {
		if f.idle < 0 {
			return req, usageErr(cmd, "--idle-timeout is in seconds, 0 never pauses")
		}
		req.IdleTimeout = &f.idle
	}
	if f.egress.set(cmd) {
		p, err := f.egress.policy(cmd)
		if err != nil {
			return req, err
		}
		req.Egress = &p
	}
	return req, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
