package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// saveDisk saves a sandbox with a durable disk: what it wrote, the upper
// directory of its overlay at one instant, is already a layer in
// overlayfs's format, so it is copied as it is (reflinks where the host's
// filesystem has them) over the stack the sandbox runs on. It returns
// ErrNoDisk for a sandbox whose disk is ephemeral.
func (b *Builder) saveDisk(ctx context.Context, r *run, dr DiskReader, req SaveRequest) (*Template, error) {
	var t *Template
	err := dr.ReadWrites(ctx, req.TeamID, req.Sandbox, func(upper string, o Origin) error {
		r.emit(Event{Step: 1, Steps: 2, Instruction: "snapshot of the disk of " + req.Sandbox})
		res, err := b.stackOf(ctx, req.TeamID, o)
		if err != nil {
			return err
		}
		r.done = 2
		r.emit(Event{Step: 2, Steps: 2, Instruction: "copying what " + req.Sandbox + " changed"})
		id, err := b.copyLayer(ctx, res.stack.Top(), upper, "save of sandbox "+req.Sandbox)
		if err != nil {
			return err
		}
		res.stack = res.stack.Push(id)
		r.req.Dockerfile = "# saved from sandbox " + req.Sandbox + "\n"
		t, err = b.record(ctx, r.req, "sandbox "+req.Sandbox, res)
		return err
	})
	return t, err
}

// copyLayer makes a new layer over parent of the overlayfs upper
// directory upper, leaving out what a save does not keep (notSaved).
func (b *Builder) copyLayer(ctx context.Context, parent, upper, createdBy string) (string, error) {
	id := newLayerID()
	p, err := b.layers.Create(id)
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(upper)
	if err == nil {
		for _, e := range entries {
			if slices.Contains(notSaved, e.Name()) {
				continue
			}
			// cp -a keeps owners, modes, times, links, devices (overlayfs's
			// whiteouts) and extended attributes (its opaque directories),
			// and follows no symlink the sandbox made.
			out, cerr := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", filepath.Join(upper, e.Name()), p.Files()+"/").CombinedOutput()
			if cerr != nil {
				err = fmt.Errorf("copying %s: %w: %s", e.Name(), cerr, out)
				break
			}
		}
	}
	if err != nil {
		p.Abort()
		return "", fmt.Errorf("copying the sandbox's writes: %w", err)
	}
	if _, err := p.Commit(parent, createdBy); err != nil {
		return "", err
	}
	return id, nil
}
