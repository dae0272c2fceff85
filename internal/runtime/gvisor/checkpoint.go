package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	if s.RootFS != "" {
		spec.Root.Path = s.RootFS // a fork's own disk
	}
	bundle, err := writeBundle(s.Dir, &spec)
	if err != nil {
		return err
	}
	return r.runDetached(ctx, s, "restore", "--detach", "--image-path="+imageDir, "--bundle="+bundle, s.ID)
}

// Freeze stops every process of the sandbox where it is, so that nothing
// writes to its disk, until Thaw.
func (r *Runtime) Freeze(ctx context.Context, id string) error {
	if out, err := r.runsc(ctx, "pause", id); err != nil {
		return fmt.Errorf("runsc pause %s: %w: %s", id, err, out)
	}
	return nil
}

// Thaw lets a frozen sandbox run on.
func (r *Runtime) Thaw(ctx context.Context, id string) error {
	if out, err := r.runsc(ctx, "resume", id); err != nil {
		return fmt.Errorf("runsc resume %s: %w: %s", id, err, out)
	}
	return nil
}
