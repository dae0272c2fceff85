// Package gvisor runs sandboxes with gVisor's runsc: it builds each
// sandbox's OCI bundle, owns every runsc flag, and wraps the runsc
// commands the daemon needs (run, delete, state, list) plus a watch on the
// sandbox process.
package gvisor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/errdefs"
)

// Config holds the runtime's settings.
type Config struct {
	Runsc        string // path of the runsc binary
	Root         string // runsc --root: container state
	Platform     string // auto (default), systrap, kvm or ptrace
	Debug        bool   // write runsc debug logs into each sandbox directory
	CgroupParent string // default /runtools
	HostPids     int64  // host tasks per sandbox (gVisor's own threads and stubs), default 8192
}

// Runtime starts and stops gVisor sandboxes.
type Runtime struct {
	cfg      Config
	log      *slog.Logger
	platform string

	diskMu   sync.Mutex
	diskPids map[string][]int // each sandbox's runsc processes, for Disk
}

// New checks runsc and picks the platform. With Platform "auto" it uses
// kvm when /dev/kvm exists and a probe sandbox boots on it, else systrap.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Runtime, error) {
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = "/runtools"
	}
	if cfg.HostPids == 0 {
		cfg.HostPids = 8192
	}
	if cfg.Platform == "" {
		cfg.Platform = "auto"
	}
	if _, err := exec.LookPath(cfg.Runsc); err != nil {
		return nil, fmt.Errorf("%w: runsc not found at %q: run `make setup` (scripts/setup.sh) to build it: %v", errdefs.ErrUnavailable, cfg.Runsc, err)
	}
	if err := os.MkdirAll(cfg.Root, 0o700); err != nil {
		return nil, fmt.Errorf("creating runsc root: %w", err)
	}
	r := &Runtime{cfg: cfg, log: log.With("component", "gvisor")}
	switch cfg.Platform {
	case "auto":
		r.platform = r.probePlatform(ctx)
	case "systrap", "kvm", "ptrace":
		r.platform = cfg.Platform
	default:
		return nil, fmt.Errorf("%w: platform %q: want auto, systrap, kvm or ptrace", errdefs.ErrInvalidArgument, cfg.Platform)
	}
	r.log.Info("gVisor runtime ready", "runsc", cfg.Runsc, "platform", r.platform)
	return r, nil
}

// Platform returns the gVisor platform in use.
func (r *Runtime) Platform() string { return r.platform }

// globalFlags are the flags every runsc call that starts sandbox s gets.
func (r *Runtime) globalFlags(s Spec) []string {
	dir, diskMB, platform := s.Dir, s.DiskMB, s.Platform
	flags := []string{
		"--root=" + r.cfg.Root,
		"--platform=" + cmp.Or(platform, r.platform),
		"--network=sandbox",
		"--net-raw=false",
		"--host-uds=none",
	}
	if dir != "" {
		overlay := fmt.Sprintf("--overlay2=root:dir=%s,size=%dm", filepath.Join(dir, "overlay"), diskMB)
		if s.WritableRoot || s.OwnDisk {
			overlay = "--overlay2=none"
		}
		flags = append(flags, overlay)
		if r.cfg.Debug {
			flags = append(flags, "--debug", "--debug-log="+filepath.Join(dir, "logs")+"/")
		}
	}
	return flags
}

// Start writes the sandbox's bundle and starts it detached. The sandbox's
// console (the agent's own output) goes to console.log in its directory.
func (r *Runtime) Start(ctx context.Context, s Spec) error {
	spec := ociSpec(s, r.cfg.CgroupParent, r.cfg.HostPids)
	if s.WritableRoot {
		spec.Mounts = append(spec.Mounts, keepTmp(s.RootFS)...)
	}
	bundle, err := writeBundle(s.Dir, spec)
	if err != nil {
		return err
	}
	return r.runDetached(ctx, s, "run", "--detach", "--bundle="+bundle, s.ID)
}

// writeBundle writes spec as the OCI bundle of the sandbox in dir, next to
// the directory of its overlay, and returns the bundle's path.
func writeBundle(dir string, spec *specs.Spec) (string, error) {
	bundle := filepath.Join(dir, "bundle")
	for _, d := range []string{bundle, filepath.Join(dir, "overlay")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("creating %s: %w", d, err)
		}
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding OCI spec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return "", fmt.Errorf("writing OCI spec: %w", err)
	}
	return bundle, nil
}

// runDetached runs a runsc command (args, after the global flags) that
// starts sandbox s detached, its output going to console.log in s.Dir.
func (r *Runtime) runDetached(ctx context.Context, s Spec, args ...string) error {
	logPath := filepath.Join(s.Dir, "console.log")
	console, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening console log: %w", err)
	}
	defer console.Close()
	cmd := exec.CommandContext(ctx, r.cfg.Runsc, append(r.globalFlags(s), args...)...)
	cmd.Stdout, cmd.Stderr = console, console
	// If the daemon dies mid-start, so does this runsc; recovery cleans up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("runsc %s %s: %w: %s", args[0], s.ID, err, tail(logPath, 2048))
	}
	return nil
}

// Destroy kills the sandbox and deletes runsc's state for it, along with
// any process, cgroup or control socket a half-finished start left behind.
func (r *Runtime) Destroy(ctx context.Context, id string) error {
	if r.hasState(id) {
		out, err := r.runsc(ctx, "delete", "--force", id)
		if err != nil && !notExist(out) {
			return fmt.Errorf("runsc delete %s: %w: %s", id, err, out)
		}
	}
	r.killProcs(id)
	r.removeCgroups(id)
	r.removeSockets(id)
	return nil
}

// hasState reports whether runsc keeps state for a container, without the
// cost of running runsc (a resume clears state that is usually not there).
func (r *Runtime) hasState(id string) bool {
	matches, err := filepath.Glob(filepath.Join(r.cfg.Root, id+"_sandbox:*.state"))
	return err != nil || len(matches) > 0
}

type state struct {
	ID     string `json:"id"`
	PID    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

func (r *Runtime) state(ctx context.Context, id string) (state, error) {
	var st state
	out, err := r.runsc(ctx, "state", id)
	if err != nil {
		if notExist(out) {
			return st, fmt.Errorf("%w: runsc has no sandbox %s", errdefs.ErrNotFound, id)
		}
		return st, fmt.Errorf("runsc state %s: %w: %s", id, err, out)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("decoding runsc state of %s: %w", id, err)
	}
	return st, nil
}

// Running reports whether the sandbox exists and runs.
func (r *Runtime) Running(ctx context.Context, id string) (bool, error) {
	st, err := r.state(ctx, id)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Status == "running" && processAlive(st.PID), nil
}

// List returns the IDs of every container under the runsc root, and of
// every sandbox that still has runsc processes without a container.
func (r *Runtime) List(ctx context.Context) ([]string, error) {
	out, err := r.runsc(ctx, "list", "--quiet")
	if err != nil {
		return nil, fmt.Errorf("runsc list: %w: %s", err, out)
	}
	ids := strings.Fields(string(out))
	for id := range r.runscProcs() {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (r *Runtime) runsc(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.cfg.Runsc, append([]string{"--root=" + r.cfg.Root}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return bytes.TrimSpace(buf.Bytes()), err
}

func notExist(out []byte) bool {
	s := string(out)
	return strings.Contains(s, "does not exist") || strings.Contains(s, "not found") || strings.Contains(s, "no such file")
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state letter follows the ")" that ends the command name.
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && data[i+2] != 'Z'
}

// tail returns up to n bytes from the end of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		f.Seek(-n, 2)
	}
	buf := new(bytes.Buffer)
	buf.ReadFrom(f)
	return strings.TrimSpace(buf.String())
}
