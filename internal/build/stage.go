package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "tpl-" + hex.EncodeToString(b)
}

// run is one build in progress.
type run struct {
	b        *Builder
	req      Request
	file     *dockerfile.File
	context  *buildContext // nil: the build has no context
	start    time.Time
	steps    int
	done     int // steps finished so far
	progress func(Event)
}

// stageResult is what a stage made.
type stageResult struct {
	stack  layer.Stack
	config Config
}

// stage runs stage i over what it starts from.
func (r *run) stage(ctx context.Context, i int, earlier []stageResult) (stageResult, error) {
	st := r.file.Stages[i]
	res, err := r.base(ctx, st, earlier)
	if err != nil {
		return stageResult{}, err
	}
	vars := dockerfile.Vars{Env: res.config.Env}
	for _, in := range st.Instructions {
		r.done++
		ev := Event{Step: r.done, Steps: r.steps, Instruction: in.Source, Line: in.Line}
		step, err := r.file.Resolve(in, vars)
		if err != nil {
			return stageResult{}, err
		}
		if res, err = r.apply(ctx, res, step, &vars, earlier, ev); err != nil {
			return stageResult{}, r.stepErr(ev, err)
		}
	}
	return res, nil
}

// apply runs one step: a change of config, or a new layer.
func (r *run) apply(ctx context.Context, res stageResult, st dockerfile.Step, vars *dockerfile.Vars, earlier []stageResult, ev Event) (stageResult, error) {
	c := &res.config
	switch st.Kind {
	case dockerfile.Arg:
		for _, v := range st.Vars {
			vars.Args = vars.Args.Set(v.Name, v.Value)
		}
	case dockerfile.SetEnv:
		for _, v := range st.Vars {
			vars.Env = vars.Env.Set(v.Name, v.Value)
		}
		c.Env = vars.Env
	case dockerfile.Label:
		c.Labels = cloneMap(c.Labels)
		for _, v := range st.Vars {
			c.Labels[v.Name] = v.Value
		}
	case dockerfile.User:
		c.User = st.Value
	case dockerfile.Expose:
		ports, err := parsePorts(st.Ports)
		if err != nil {
			return res, err
		}
		c.Ports = mergePorts(c.Ports, ports)
	case dockerfile.Cmd:
		c.Cmd = st.Argv
	case dockerfile.Entrypoint:
		c.Entrypoint, c.Cmd = st.Argv, nil // as Docker: a new entrypoint drops the inherited CMD
	case dockerfile.Workdir:
		c.Workdir = absUnder(c.Workdir, st.Value)
		return r.layerStep(ctx, res, st, *vars, earlier, ev)
	default: // RUN, COPY, ADD
		return r.layerStep(ctx, res, st, *vars, earlier, ev)
	}
	r.emit(ev)
	return res, nil
}

// base resolves what a stage starts from: an earlier stage, a built-in
// template, one of the team's custom templates, or scratch.
func (r *run) base(ctx context.Context, st dockerfile.Stage, earlier []stageResult) (stageResult, error) {
	if i := r.file.StageIndex(st.From, len(earlier)); i >= 0 {
		return earlier[i], nil
	}
	if st.From == "scratch" {
		return stageResult{}, nil
	}
	rootfs, c, err := r.b.builtins.Builtin(ctx, st.From)
	if err == nil {
		c.Env = defaultEnv
		return stageResult{stack: layer.Stack{Base: rootfs}, config: c}, nil
	}
	if !errors.Is(err, errdefs.ErrNotFound) {
		return stageResult{}, fmt.Errorf("Dockerfile line %d: FROM %s: %w", st.Line, st.From, err)
	}
	if t, err := r.b.Latest(ctx, r.req.TeamID, st.From); err == nil {
		return stageResult{stack: t.Stack, config: t.Config}, nil
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return stageResult{}, err
	}
	if strings.ContainsAny(st.From, ":/@.") { // an image reference: no template name has these
		res, err := r.fromImage(ctx, st.From)
		if err != nil {
			return stageResult{}, fmt.Errorf("Dockerfile line %d: FROM %s: %w", st.Line, st.From, err)
		}
		return res, nil
	}
	return stageResult{}, fmt.Errorf("%w: Dockerfile line %d: FROM %s: no stage, template or image of that name (see runtools template list; an image is named like python:3.12 or registry.example.com/app:1)", errdefs.ErrInvalidArgument, st.Line, st.From)
}

// defaultEnv is the environment of a built-in template's sandboxes.
var defaultEnv = dockerfile.Env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

func (r *run) emit(ev Event) {
	if r.progress != nil {
		ev.Elapsed = r.b.now().Sub(r.start)
		r.progress(ev)
	}
}

// stepErr says which step failed, keeping err's kind.
func (r *run) stepErr(ev Event, err error) error {
	return fmt.Errorf("step %d/%d (Dockerfile line %d) %s: %w", ev.Step, ev.Steps, ev.Line, ev.Instruction, err)
}

func absUnder(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	if dir == "" {
		dir = "/"
	}
	return strings.TrimSuffix(dir, "/") + "/" + p
}

// parsePorts reads EXPOSE's ports: TCP ports only reach a sandbox's URLs.
func parsePorts(specs []string) ([]int, error) {
	var ports []int
	for _, s := range specs {
		num, proto, _ := strings.Cut(s, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		p, err := strconv.Atoi(num)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%w: EXPOSE %s: a port is a number from 1 to 65535", errdefs.ErrInvalidArgument, s)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func mergePorts(a, b []int) []int {
	out := slices.Clone(a)
	for _, p := range b {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
