package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// system is a place the workloads run: a sandbox, or the host.
type system struct {
	name string
	dir  string            // $W: the work directory, on the disk measured
	env  map[string]string // what every script gets besides $W and $I
	// exec runs a shell script with env and returns its standard output.
	exec func(ctx context.Context, script string, env map[string]string) (string, error)
	// put copies a file of the host into the system; nil on the host.
	put func(ctx context.Context, local, remote string) error
	sb  *client.Sandbox // nil on the host
}

// systems are the section's three systems and their sandboxes.
type systems struct {
	all       []*system // durable, ephemeral, host
	sandboxes []*system // durable, ephemeral
}

// sandboxDir is $W in the sandboxes: under /root, on the sandbox's own
// disk (gVisor mounts a tmpfs of its own on /tmp).
const sandboxDir = "/root/bench-disk"

// gitEnv fixes git's identity and dates, and keeps the host's and the
// template's git configuration out.
var gitEnv = map[string]string{
	"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
	"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
	"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
	// pip reads no configuration file, and does not warn about root.
	"PIP_CONFIG_FILE": "/dev/null", "PIP_ROOT_USER_ACTION": "ignore",
}

// startSystems creates the durable and the ephemeral sandbox and makes the
// host's work directory, next to a read-only view of the template's root
// filesystem whose programs the host runs. The returned removal undoes
// all of it, is safe to call twice, and is on env.Undo too.
func startSystems(ctx context.Context, env *section.Env, template string) (*systems, func(context.Context) error, error) {
	var steps []func(context.Context) error
	remove := host.Once(func(ctx context.Context) error {
		var errs []error
		for _, f := range slices.Backward(steps) {
			errs = append(errs, f(ctx))
		}
		return errors.Join(errs...)
	})
	env.Undo.Push("remove the disk I/O sandboxes and directories", remove)
	s := &systems{}
	for _, disk := range []string{Durable, Ephemeral} {
		sys, rm, err := startSandbox(ctx, env.Server, template, disk)
		if rm != nil {
			steps = append(steps, rm)
		}
		if err != nil {
			return nil, remove, err
		}
		s.sandboxes = append(s.sandboxes, sys)
	}
	hs, rm, err := startHost(env.Systems.Dir, env.Systems.Rootfs)
	if rm != nil {
		steps = append(steps, rm)
	}
	if err != nil {
		return nil, remove, err
	}
	s.all = append(slices.Clone(s.sandboxes), hs)
	for _, sys := range s.all {
		if _, err := sys.exec(ctx, `mkdir -p "$W/home"`, sys.envFor(-1)); err != nil {
			return nil, remove, fmt.Errorf("making the %s work directory: %w", sys.name, err)
		}
	}
	return s, remove, nil
}

// startSandbox creates a sandbox of template with disk kind (Durable or
// Ephemeral), memoryMB and an idle timeout of 0, and returns it as a
// system with its removal.
func startSandbox(ctx context.Context, srv *server.Server, template, kind string) (*system, func(context.Context) error, error) {
	zero := 0
	req := client.CreateRequest{Template: template, MemoryMB: memoryMB, IdleTimeout: &zero}
	if kind == Ephemeral {
		req.Disk = Ephemeral
	}
	sb, err := srv.Client.Create(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the %s-disk sandbox: %w", kind, err)
	}
	rm := host.Once(func(ctx context.Context) error { return srv.Destroy(ctx, sb) })
	if sb.Disk != kind {
		return nil, rm, fmt.Errorf("the %s-disk sandbox %s has a %q disk", kind, sb.ID, sb.Disk)
	}
	env := maps.Clone(gitEnv)
	env["HOME"] = sandboxDir + "/home"
	env["WHEELS_FROM"] = "/usr/share/python-wheels"
	sys := &system{name: kind, dir: sandboxDir, env: env, sb: sb, exec: sandboxExec(srv.Client, sb.ID),
		put: sandboxPut(srv.Client.Files(sb.ID))}
	return sys, rm, nil
}

// sandboxExec runs scripts in sandbox id through the API.
func sandboxExec(c *client.Client, id string) func(context.Context, string, map[string]string) (string, error) {
	return func(ctx context.Context, script string, env map[string]string) (string, error) {
		res, err := c.Exec(ctx, id, client.ExecRequest{Cmd: []string{"sh", "-c", script}, Env: env,
			TimeoutMS: setupTimeout.Milliseconds()})
		if err != nil {
			return "", fmt.Errorf("exec in %s: %w", id, err)
		}
		if res.ExitCode != 0 || res.Error != "" || res.TimedOut {
			return string(res.Stdout), fmt.Errorf("exit code %d%s: %s", res.ExitCode, timedOut(res.TimedOut),
				host.LastLines(strings.TrimSpace(res.Error+"\n"+string(res.Stderr)), 5))
		}
		return string(res.Stdout), nil
	}
}

// sandboxPut copies host files into a sandbox through the files API.
func sandboxPut(files *client.Files) func(context.Context, string, string) error {
	return func(ctx context.Context, local, remote string) error {
		f, err := os.Open(local)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = files.Write(ctx, remote, f, client.WriteOptions{MkDirs: true})
		return err
	}
}

func timedOut(yes bool) string {
	if yes {
		return fmt.Sprintf(" (timed out after %s)", setupTimeout)
	}
	return ""
}

// startHost makes the host's work directory under the bench's directory
// tmp, and mounts the template's root filesystem read-only beside it: the
// host runs the template's own programs from there (with the host's
// kernel and shared libraries), which cannot change the template.
func startHost(tmp, rootfs string) (*system, func(context.Context) error, error) {
	base := filepath.Join(tmp, "disk")
	ro, work := filepath.Join(base, "rootfs"), filepath.Join(base, "work")
	var mounted bool
	rm := host.Once(func(context.Context) error {
		var errs []error
		if mounted {
			errs = append(errs, syscall.Unmount(ro, syscall.MNT_DETACH))
		}
		return errors.Join(append(errs, os.RemoveAll(base))...)
	})
	for _, d := range []string{ro, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, rm, fmt.Errorf("making %s: %w", d, err)
		}
	}
	if err := syscall.Mount(rootfs, ro, "", syscall.MS_BIND, ""); err != nil {
		return nil, rm, fmt.Errorf("bind-mounting %s: %w", rootfs, err)
	}
	mounted = true
	if err := syscall.Mount("", ro, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		return nil, rm, fmt.Errorf("making %s read-only: %w", ro, err)
	}
	env := maps.Clone(gitEnv)
	var path []string
	for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		path = append(path, ro+d)
	}
	env["PATH"] = strings.Join(path, ":")
	env["HOME"] = filepath.Join(work, "home")
	env["WHEELS_FROM"] = filepath.Join(ro, "usr/share/python-wheels")
	// git's helpers and templates, and npm's global configuration: the
	// template's, as in the sandboxes.
	env["GIT_EXEC_PATH"] = filepath.Join(ro, "usr/lib/git-core")
	env["GIT_TEMPLATE_DIR"] = filepath.Join(ro, "usr/share/git-core/templates")
	env["npm_config_globalconfig"] = filepath.Join(ro, "etc/npmrc")
	sh := filepath.Join(ro, "usr/bin/sh")
	return &system{name: Host, dir: work, env: env, exec: hostExec(sh)}, rm, nil
}

// hostExec runs scripts on the host with sh, with env as their whole
// environment, in a process group of their own (a Ctrl-C is the bench's).
func hostExec(sh string) func(context.Context, string, map[string]string) (string, error) {
	return func(ctx context.Context, script string, env map[string]string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, setupTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, sh, "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = 5 * time.Second
		for _, k := range slices.Sorted(maps.Keys(env)) {
			cmd.Env = append(cmd.Env, k+"="+env[k])
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return out.String(), fmt.Errorf("%w: %s", err, host.LastLines(strings.TrimSpace(errb.String()), 5))
		}
		return out.String(), nil
	}
}

// envFor is the system's environment for run i (-1: not a run).
func (s *system) envFor(i int) map[string]string {
	env := maps.Clone(s.env)
	env["W"] = s.dir
	if i >= 0 {
		env["I"] = strconv.Itoa(i)
	}
	return env
}

// run runs script on the system as run i (-1: not a run).
func (s *system) run(ctx context.Context, script string, i int) (string, error) {
	return s.exec(ctx, script, s.envFor(i))
}

// trial runs script as run i, after the prologue, and reads its phases;
// then, untimed, it removes the run's directory and syncs the host's
// filesystems (the sandboxes' disk images with them), so that the next
// run starts with nothing left to write back.
func (s *system) trial(ctx context.Context, script string, i int) ([]stats.Phase, error) {
	out, err := s.run(ctx, prologue+script, i)
	if err != nil {
		return nil, err
	}
	ph, err := parsePhases(out)
	if err != nil {
		return nil, err
	}
	if _, err := s.run(ctx, cleanup, i); err != nil {
		return nil, fmt.Errorf("removing the run's directory: %w", err)
	}
	syscall.Sync()
	return ph, nil
}
