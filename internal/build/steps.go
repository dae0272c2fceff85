package build

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// layerStep makes the layer of a RUN, COPY, ADD or WORKDIR step, or takes
// it from the cache.
func (r *run) layerStep(ctx context.Context, res stageResult, st dockerfile.Step, vars dockerfile.Vars, earlier []stageResult, ev Event) (stageResult, error) {
	content := ""
	if (st.Kind == dockerfile.Copy || st.Kind == dockerfile.Add) && st.From == "" {
		if r.context == nil {
			return res, fmt.Errorf("%w: %s needs a build context (--context DIR)", errdefs.ErrInvalidArgument, st.Kind)
		}
		items, _, err := r.context.plan(st.Sources)
		if err != nil {
			return res, err
		}
		content = planDigest(items)
	}
	if st.From != "" {
		from, err := r.stageOrTemplate(ctx, st.From, earlier)
		if err != nil {
			return res, err
		}
		content = "from " + stackKey(from.stack)
	}
	key := cacheKey(res, st, vars, content)
	if l, ok := r.b.layers.Cached(key); ok && !r.req.NoCache {
		ev.Cached = true
		r.emit(ev)
		res.stack = res.stack.Push(l.ID)
		return res, nil
	}
	r.emit(ev)
	id, err := r.makeLayer(ctx, res, st, vars, earlier, ev)
	if err != nil {
		return res, err
	}
	if err := r.b.layers.SetCache(key, id); err != nil {
		r.b.log.Warn("caching a build step", "err", err)
	}
	res.stack = res.stack.Push(id)
	return res, nil
}

// makeLayer runs a step in a sandbox over res's stack and commits what it
// wrote as a new layer.
func (r *run) makeLayer(ctx context.Context, res stageResult, st dockerfile.Step, vars dockerfile.Vars, earlier []stageResult, ev Event) (string, error) {
	what := fmt.Sprintf("build of %s, step %d/%d", r.req.Name, ev.Step, ev.Steps)
	return r.inNewLayer(ctx, res.stack, what, st.Source, func(ctx context.Context, sb Sandbox) error {
		return r.inSandbox(ctx, sb, res.config, st, vars, earlier, ev)
	})
}

// inNewLayer runs work in a sandbox (described by what) whose root is a
// new, writable layer over stack, and commits what it wrote as that layer,
// recorded as made by createdBy. Work that writes more than the layer
// limit is cancelled. A failure leaves no layer behind.
func (r *run) inNewLayer(ctx context.Context, stack layer.Stack, what, createdBy string, work func(context.Context, Sandbox) error) (string, error) {
	id := newLayerID()
	p, err := r.b.layers.Create(id)
	if err != nil {
		return "", err
	}
	committed := false
	defer func() {
		if !committed {
			p.Abort()
		}
	}()
	root, err := r.b.layers.Writable(stack, p)
	if err != nil {
		return "", err
	}
	sb, err := r.b.sbs.Start(ctx, r.req.TeamID, root, true, what)
	if err != nil {
		return "", fmt.Errorf("starting the sandbox of the %s: %w", what, err)
	}
	wctx, stop := watchDisk(ctx, p.Files(), r.b.cfg.MaxLayerBytes)
	err = work(wctx, sb)
	if over := stop(); over != nil {
		err = over
	}
	sb.Destroy(context.WithoutCancel(ctx))
	if err != nil {
		return "", err
	}
	if _, err := p.Commit(stack.Top(), createdBy); err != nil {
		return "", err
	}
	committed = true
	return id, nil
}

// inSandbox does a step's work in its sandbox.
func (r *run) inSandbox(ctx context.Context, sb Sandbox, c Config, st dockerfile.Step, vars dockerfile.Vars, earlier []stageResult, ev Event) error {
	switch st.Kind {
	case dockerfile.Workdir:
		return sb.Mkdir(ctx, c.Workdir)
	case dockerfile.Run:
		if c.Workdir != "" {
			if err := sb.Mkdir(ctx, c.Workdir); err != nil {
				return err
			}
		}
		return r.runCommand(ctx, sb, c, st, vars, ev)
	case dockerfile.Copy, dockerfile.Add:
		if st.From != "" {
			return r.copyFrom(ctx, sb, c, st, earlier)
		}
		return r.copyContext(ctx, sb, c, st)
	}
	return fmt.Errorf("%w: %s makes no layer", errdefs.ErrInvalidArgument, st.Kind)
}

// runCommand runs a RUN step's command, streaming its output as progress.
func (r *run) runCommand(ctx context.Context, sb Sandbox, c Config, st dockerfile.Step, vars dockerfile.Vars, ev Event) error {
	env := map[string]string{}
	for _, kv := range vars.Args.Merge(vars.Env) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	req := agentapi.ExecRequest{Cmd: st.Argv, Env: env, Cwd: c.Workdir, User: c.User, TimeoutMS: r.b.cfg.StepTimeout.Milliseconds()}
	tail := &lastLines{max: 20}
	exit := -1
	err := sb.Exec(ctx, req, func(e agentapi.Event) error {
		switch e.Type {
		case agentapi.EventStdout, agentapi.EventStderr:
			for _, line := range tail.add(e.Data) {
				out := ev
				out.Output = line
				r.emit(out)
			}
		case agentapi.EventExit:
			if e.ExitCode != nil {
				exit = *e.ExitCode
			}
			if e.TimedOut {
				return fmt.Errorf("%w: timed out after %v (the server's --build-step-timeout)", errdefs.ErrInvalidArgument, r.b.cfg.StepTimeout)
			}
		case agentapi.EventError:
			return fmt.Errorf("%w: %s", errdefs.ErrInvalidArgument, e.Message)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if exit != 0 {
		return fmt.Errorf("%w: exit code %d; its last lines:\n%s", errdefs.ErrInvalidArgument, exit, tail.String())
	}
	return nil
}

// cacheKey identifies a step's layer: the stack below it, the instruction,
// what it runs with, and the content it copies.
func cacheKey(res stageResult, st dockerfile.Step, vars dockerfile.Vars, content string) string {
	h := sha256.New()
	fmt.Fprintf(h, "stack %s\nkind %s\nargv %q\nsources %q\ndest %s\nchown %s\nchmod %s\n", stackKey(res.stack), st.Kind, st.Argv, st.Sources, st.Dest, st.Chown, st.Chmod)
	fmt.Fprintf(h, "env %q\nargs %q\nworkdir %s\nuser %s\ncontent %s\n", vars.Env, vars.Args, res.config.Workdir, res.config.User, content)
	return hex.EncodeToString(h.Sum(nil))
}

func newLayerID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// lastLines splits output into lines and keeps the last max of them.
type lastLines struct {
	max     int
	partial []byte
	lines   []string
}

// add takes a chunk of output and returns the whole lines it completes.
func (l *lastLines) add(b []byte) []string {
	l.partial = append(l.partial, b...)
	var out []string
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(l.partial[:i]), "\r")
		l.partial = l.partial[i+1:]
		out = append(out, line)
		l.lines = append(l.lines, line)
		if len(l.lines) > l.max {
			l.lines = l.lines[1:]
		}
	}
	return out
}

func (l *lastLines) String() string {
	lines := l.lines
	if len(l.partial) > 0 {
		lines = append(lines, string(l.partial))
	}
	return strings.Join(lines, "\n")
}
