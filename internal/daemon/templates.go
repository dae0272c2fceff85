package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/disk"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
	"github.com/runtools/runtools/internal/network"
	"github.com/runtools/runtools/internal/runtime/gvisor"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
	"github.com/runtools/runtools/internal/volume"
)

// newManager makes the sandbox manager, and the builder of custom
// templates whose steps it runs, over the layers of those templates.
func newManager(cfg Config, st *store.Store, rt *gvisor.Runtime, netw *network.Manager, tpl *template.Manager, log *slog.Logger) (*sandbox.Manager, *build.Builder, *layer.Store, error) {
	agentBin, err := installAgent(cfg.path("agent"))
	if err != nil {
		return nil, nil, nil, err
	}
	layers, err := layer.Open(cfg.path("layers"), log)
	if err != nil {
		return nil, nil, nil, err
	}
	steps := &buildSandboxes{dir: cfg.path("sandboxes"), vcpus: cfg.Build.VCPUs, memoryMB: cfg.Build.MemoryMB}
	builder := build.New(build.Options{TmpDir: cfg.path("tmp"), StepTimeout: cfg.Build.StepTimeout, MaxImageBytes: int64(cfg.Build.MaxImageMB) << 20,
		MaxLayerBytes: int64(cfg.Build.DiskMB) << 20, CacheTTL: cfg.Build.CacheTTL}, layers, steps, builtins{tpl}, st, log)
	mgr, err := sandbox.NewManager(sandbox.Config{Dir: cfg.path("sandboxes"), AgentBinary: agentBin,
		PausedTTL: cfg.PausedTTL, MaxSnapshots: cfg.MaxSnapshots, Node: cfg.Node.Name}, log,
		runtimeAdapter{rt}, netAdapter{netw}, templateAdapter{builtin: builtins{tpl}, custom: builder, layers: layers}, st)
	if err != nil {
		return nil, nil, nil, err
	}
	steps.mgr = mgr
	if disks, err := disk.New(cfg.path("disks"), log); err != nil {
		log.Warn("sandboxes get ephemeral disks only: their files go with a crash", "err", err)
	} else {
		mgr.SetDisks(disks)
	}
	if vols, err := volume.New(cfg.path("volumes"), log); err != nil {
		log.Warn("volumes are off", "err", err)
	} else {
		mgr.SetVolumes(vols)
	}
	return mgr, builder, layers, nil
}

// builtins gives builds the built-in templates, with what their sandboxes
// start with.
type builtins struct{ tpl *template.Manager }

func (b builtins) Builtin(ctx context.Context, name string) (string, build.Config, error) {
	_, rootfs, c, err := b.lookup(ctx, name)
	return rootfs, c, err
}

// lookup returns the built-in template name (or an alias of it) names:
// its own name, its root filesystem and what its sandboxes start with,
// reading its state once.
func (b builtins) lookup(ctx context.Context, name string) (string, string, build.Config, error) {
	info, err := b.tpl.Get(ctx, name)
	if err != nil {
		return "", "", build.Config{}, err
	}
	rootfs, err := template.ReadyRootFS(info)
	return info.Name, rootfs, build.Config{Ports: info.Ports, MemoryMB: info.MemoryMB, Desktop: info.Desktop}, err
}

// templateAdapter resolves the templates a team may use for the sandbox
// manager: a built-in one, else one of the team's custom templates (or a
// public one), whose stack of layers is mounted once and shared.
type templateAdapter struct {
	builtin builtins
	custom  *build.Builder
	layers  *layer.Store
}

func (a templateAdapter) Resolve(ctx context.Context, teamID, name string) (sandbox.Template, error) {
	own, rootfs, c, err := a.builtin.lookup(ctx, name)
	if err == nil {
		return sandbox.Template{Name: own, RootFS: rootfs, MemoryMB: c.MemoryMB, Ports: c.Ports, Desktop: c.Desktop}, nil
	}
	if !errors.Is(err, errdefs.ErrNotFound) {
		return sandbox.Template{}, err
	}
	t, cerr := a.custom.Latest(ctx, teamID, name)
	if errors.Is(cerr, errdefs.ErrNotFound) {
		return sandbox.Template{}, err // the built-in list says what there is
	}
	if cerr != nil {
		return sandbox.Template{}, cerr
	}
	if rootfs, err = a.layers.RootFS(t.Stack); err != nil {
		return sandbox.Template{}, err
	}
	c = t.Config
	return sandbox.Template{Name: t.Name, RootFS: rootfs, Ports: c.Ports, Env: c.Env, Workdir: c.Workdir, User: c.User, Start: c.Start(),
		MemoryMB: c.MemoryMB, Desktop: c.Desktop}, nil
}

// buildMetadata marks the sandboxes of template builds; they count as
// builds, not as their team's sandboxes.
const buildMetadata = sandbox.BuildMetadata

// buildSandboxes starts template build steps as sandboxes of the building
// team, through the sandbox manager like any other: they are recorded,
// limited and networked as usual, never paused, and marked as builds.
type buildSandboxes struct {
	mgr             *sandbox.Manager
	dir             string // the sandboxes' directories
	vcpus, memoryMB int    // each step's; 0: the sandbox defaults
}

func (b *buildSandboxes) Start(ctx context.Context, teamID, rootfs string, writable bool, what string) (build.Sandbox, error) {
	never := time.Duration(0)
	sb, err := b.mgr.Create(ctx, teamID, sandbox.CreateOptions{
		Template: "build", RootFS: rootfs, WritableRoot: writable, IdleTimeout: &never, VCPUs: b.vcpus, MemoryMB: b.memoryMB,
		Metadata: map[string]string{buildMetadata: what},
	})
	if err != nil {
		return nil, err
	}
	return buildSandbox{mgr: b.mgr, sb: sb}, nil
}

func (b *buildSandboxes) Fork(ctx context.Context, teamID, ref string) (build.Sandbox, build.Origin, error) {
	parent, err := b.mgr.Get(ctx, teamID, ref)
	if err != nil {
		return nil, build.Origin{}, err
	}
	rootfs, err := templateRootFS(filepath.Join(b.dir, parent.ID))
	if err != nil {
		return nil, build.Origin{}, err
	}
	sb, err := b.mgr.ForkAs(ctx, teamID, parent.ID, map[string]string{buildMetadata: "save of " + parent.ID})
	if err != nil {
		return nil, build.Origin{}, err
	}
	return buildSandbox{mgr: b.mgr, sb: sb}, build.Origin{RootFS: rootfs, Template: parent.Template}, nil
}

// ReadWrites gives a save what a sandbox with a durable disk wrote.
func (b *buildSandboxes) ReadWrites(ctx context.Context, teamID, ref string, fn func(upper string, o build.Origin) error) error {
	parent, err := b.mgr.Get(ctx, teamID, ref)
	if err != nil {
		return err
	}
	err = b.mgr.ReadWrites(ctx, teamID, parent.ID, func(upper, lower string) error {
		return fn(upper, build.Origin{RootFS: lower, Template: parent.Template})
	})
	if errors.Is(err, sandbox.ErrEphemeral) {
		return build.ErrNoDisk
	}
	return err
}

type buildSandbox struct {
	mgr *sandbox.Manager
	sb  *sandbox.Sandbox
}

func (s buildSandbox) Exec(ctx context.Context, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) error {
	return s.mgr.Exec(ctx, s.sb.TeamID, s.sb.ID, req, onEvent)
}

// use runs fn with the sandbox's agent, in a session.
func (s buildSandbox) use(ctx context.Context, fn func(context.Context, *agentclient.Client) error) error {
	on, err := s.mgr.Open(ctx, s.sb.TeamID, s.sb.ID)
	if err != nil {
		return err
	}
	defer on.Close()
	return on.Do(ctx, fn)
}

func (s buildSandbox) Stat(ctx context.Context, path string) (fi agentapi.FileInfo, err error) {
	err = s.use(ctx, func(ctx context.Context, ag *agentclient.Client) error { fi, err = ag.Stat(ctx, path); return err })
	return fi, err
}

func (s buildSandbox) List(ctx context.Context, path string) (list []agentapi.FileInfo, err error) {
	err = s.use(ctx, func(ctx context.Context, ag *agentclient.Client) error { list, err = ag.List(ctx, path); return err })
	return list, err
}

func (s buildSandbox) Mkdir(ctx context.Context, path string) error {
	return s.use(ctx, func(ctx context.Context, ag *agentclient.Client) error {
		_, err := ag.Mkdir(ctx, path, true)
		return err
	})
}

func (s buildSandbox) Extract(ctx context.Context, dir string, r io.Reader, o agentclient.ExtractOptions) error {
	return s.use(ctx, func(ctx context.Context, ag *agentclient.Client) error { return ag.ExtractArchive(ctx, dir, r, o) })
}

func (s buildSandbox) Archive(ctx context.Context, path string, changedOnly bool) (io.ReadCloser, error) {
	on, err := s.mgr.Open(ctx, s.sb.TeamID, s.sb.ID)
	if err != nil {
		return nil, err
	}
	rc, err := sandbox.Stream(ctx, on, func(ctx context.Context, ag *agentclient.Client) (io.ReadCloser, error) {
		if changedOnly {
			return ag.ReadChangedArchive(ctx, path)
		}
		return ag.ReadArchive(ctx, path)
	})
	if err != nil {
		on.Close()
		return nil, err
	}
	return readCloser{rc, on.Close}, nil
}

func (s buildSandbox) Destroy(ctx context.Context) {
	if _, err := s.mgr.Destroy(ctx, s.sb.TeamID, s.sb.ID); err != nil {
		slog.Default().Warn("destroying a build sandbox", "sandbox", s.sb.ID, "err", err)
	}
}

// readCloser releases the sandbox's use once the archive is closed.
type readCloser struct {
	io.ReadCloser
	done func()
}

func (r readCloser) Close() error {
	err := r.ReadCloser.Close()
	r.done()
	return err
}

// cleanBuilds destroys the sandboxes of builds a dead daemon left running,
// then the layers they were writing, and mounts every custom template so
// that its paused sandboxes resume.
func cleanBuilds(ctx context.Context, mgr *sandbox.Manager, custom *build.Builder, layers *layer.Store, log *slog.Logger) error {
	sbs, err := mgr.List(ctx, "", false)
	if err != nil {
		return err
	}
	for _, sb := range sbs {
		if _, ok := sb.Metadata[buildMetadata]; ok {
			log.Info("destroying the sandbox of a build the daemon's end interrupted", "sandbox", sb.ID)
			if _, err := mgr.Destroy(ctx, sb.TeamID, sb.ID); err != nil {
				log.Warn("destroying a build sandbox", "sandbox", sb.ID, "err", err)
			}
		}
	}
	if err := layers.RemoveUnfinished(); err != nil {
		return err
	}
	return custom.MountAll(ctx)
}

// templateRootFS returns the template root filesystem the sandbox whose
// directory is dir runs on: the lower layer of its durable disk, or its
// bundle's root.
func templateRootFS(dir string) (string, error) {
	if lower := disk.Lower(dir); lower != "" {
		return lower, nil
	}
	return gvisor.RootFS(dir)
}
