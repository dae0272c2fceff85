package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runtools/runtools/internal/atomicfile"
)

// Checkpoint saves the sandbox's memory, processes and writable disk layer
// into imageDir. Without leaveRunning the sandbox stops once it is saved
// (its process goes on exiting for a moment after this returns).
//
// The runsc client is not tied to the daemon's life: if the daemon dies
// mid-save, the save still completes and recovery finds a whole image.
func (r *Runtime) Checkpoint(ctx context.Context, id, imageDir string, leaveRunning bool) error {
	args := []string{"checkpoint", "--image-path=" + imageDir}
	if leaveRunning {
		args = append(args, "--leave-running")
	}
	out, err := r.runsc(ctx, append(args, id)...)
	if err != nil {
		if notExist(out) {
			return fmt.Errorf("runsc has no sandbox %s: %w", id, err)
		}
		return fmt.Errorf("runsc checkpoint %s: %w: %s", id, err, out)
	}
	return nil
}

// Restore starts sandbox s.ID from the image in imageDir. The bundle is
// the one of the sandbox whose directory is from (s.Dir itself to resume,
// the parent's to fork), with s's network namespace and cgroup; gVisor
// checks that the rest matches the image.
func (r *Runtime) Restore(ctx context.Context, s Spec, from, imageDir string) error {
	data, err := os.ReadFile(filepath.Join(from, "bundle", "config.json"))
	if err != nil {
		return fmt.Errorf("reading the bundle to restore into: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("decoding the bundle to restore into: %w", err)
	}
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			spec.Linux.Namespaces[i].Path = s.NetNS
		}
	}
	spec.Linux.CgroupsPath = filepath.Join(r.cfg.CgroupParent, s.ID)
	bundle := filepath.Join(s.Dir, "bundle")
	for _, d := range []string{bundle, filepath.Join(s.Dir, "overlay")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	if data, err = json.MarshalIndent(&spec, "", "  "); err != nil {
		return fmt.Errorf("encoding OCI spec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing OCI spec: %w", err)
	}
	console, err := os.OpenFile(filepath.Join(s.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening console log: %w", err)
	}
	defer console.Close()
	args := append(r.globalFlags(s), "restore", "--detach", "--image-path="+imageDir, "--bundle="+bundle, s.ID)
	cmd := exec.CommandContext(ctx, r.cfg.Runsc, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("runsc restore %s: %w: %s", s.ID, err, tail(filepath.Join(s.Dir, "console.log"), 2048))
	}
	return nil
}
