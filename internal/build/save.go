package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// A sandbox saved as a template: its current state is forked (a snapshot,
// so the sandbox stops no longer than a snapshot takes), the fork's files
// are archived by its agent, and a sandbox over the stack the sandbox runs
// on syncs them in: only what differs is written, so the new layer holds
// what the sandbox changed, with whiteouts for what it removed. The fork
// sends the bytes of only the files it changed (gVisor's overlay tells
// them apart from its template's); should the receiving side find one of
// the others not as the fork says, the save copies every file instead.

// notSaved are the top-level directories a save leaves out: the kernel's
// (proc, sys, dev), the agent's mount, and what lives in memory.
var notSaved = []string{"proc", "sys", "dev", "run", "tmp", ".runtools", "lost+found"}

// SaveRequest saves a sandbox as a template.
type SaveRequest struct {
	TeamID, Sandbox, Name, BuiltBy string
}

// Save makes the next version of the team's template req.Name from a
// sandbox's files.
func (b *Builder) Save(ctx context.Context, req SaveRequest, progress func(Event)) (*Template, error) {
	if err := validName(req.Name); err != nil {
		return nil, err
	}
	if _, _, err := b.builtins.Builtin(ctx, req.Name); !errors.Is(err, errdefs.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is a built-in template: give yours another name", errdefs.ErrInvalidArgument, req.Name)
	}
	r := &run{b: b, req: Request{TeamID: req.TeamID, Name: req.Name, BuiltBy: req.BuiltBy}, start: b.now(), progress: progress, steps: 2}
	r.done = 1
	if dr, ok := b.sbs.(DiskReader); ok {
		t, err := b.saveDisk(ctx, r, dr, req)
		if !errors.Is(err, ErrNoDisk) {
			return t, err
		}
	}
	r.emit(Event{Step: 1, Steps: 2, Instruction: "snapshot and fork of " + req.Sandbox})
	fork, origin, err := b.sbs.Fork(ctx, req.TeamID, req.Sandbox)
	if err != nil {
		return nil, err
	}
	defer fork.Destroy(context.WithoutCancel(ctx))
	res, err := b.stackOf(ctx, req.TeamID, origin)
	if err != nil {
		return nil, err
	}
	r.done = 2
	r.emit(Event{Step: 2, Steps: 2, Instruction: "copying what " + req.Sandbox + " changed"})
	id, err := r.syncLayer(ctx, res.stack, fork, req.Sandbox, true)
	if errors.Is(err, errdefs.ErrConflict) {
		b.log.Warn("a save found a file the sandbox did not change not as its template has it: copying every file", "sandbox", req.Sandbox, "err", err)
		r.emit(Event{Step: 2, Steps: 2, Instruction: "copying every file of " + req.Sandbox})
		id, err = r.syncLayer(ctx, res.stack, fork, req.Sandbox, false)
	}
	if err != nil {
		return nil, err
	}
	res.stack = res.stack.Push(id)
	r.req.Dockerfile = "# saved from sandbox " + req.Sandbox + "\n"
	return b.record(ctx, r.req, "sandbox "+req.Sandbox, res)
}

// stackOf finds the stack a sandbox runs on from its root filesystem: the
// shared mount of one of the team's (or a public) template versions, else
// a built-in template's own directory, whose sandboxes' config is the
// built-in's of that name today.
func (b *Builder) stackOf(ctx context.Context, teamID string, o Origin) (stageResult, error) {
	all, err := b.store.Templates(ctx, teamID)
	if err != nil {
		return stageResult{}, err
	}
	for _, t := range all {
		if b.layers.SharedPath(t.Stack) == o.RootFS {
			return stageResult{stack: t.Stack, config: t.Config}, nil
		}
	}
	_, c, err := b.builtins.Builtin(ctx, o.Template)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return stageResult{}, err
	}
	c.Env = defaultEnv
	return stageResult{stack: layer.Stack{Base: o.RootFS}, config: c}, nil
}

// syncLayer writes into a new layer over stack what differs between the
// stack and the files of fork; with changedOnly, fork sends the bytes of
// only the files it changed.
func (r *run) syncLayer(ctx context.Context, stack layer.Stack, fork Sandbox, what string, changedOnly bool) (string, error) {
	return r.inNewLayer(ctx, stack, "save of "+what, "save of sandbox "+what, func(ctx context.Context, step Sandbox) error {
		if err := syncFiles(ctx, fork, step, changedOnly); err != nil {
			return fmt.Errorf("copying the files of %s: %w", what, err)
		}
		return nil
	})
}

// syncFiles streams the saved directories of from into to, as one archive
// extracted with sync.
func syncFiles(ctx context.Context, from, to Sandbox, changedOnly bool) error {
	entries, err := from.List(ctx, "/")
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for _, e := range entries {
			if slices.Contains(notSaved, e.Name) {
				continue
			}
			if err := appendArchive(ctx, tw, from, "/"+e.Name, changedOnly); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	err = to.Extract(ctx, "/", pr, agentclient.ExtractOptions{KeepOwners: true, Sync: true})
	pr.CloseWithError(err)
	return err
}

// appendArchive copies the entries of from's archive of path into tw.
func appendArchive(ctx context.Context, tw *tar.Writer, from Sandbox, path string, changedOnly bool) error {
	rc, err := from.Archive(ctx, path, changedOnly)
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
