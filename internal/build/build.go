// Package build makes custom templates from Dockerfiles. Every RUN, COPY,
// ADD and WORKDIR step runs in a gVisor sandbox of the building team, on
// an overlay of the layers below it: what the step writes lands in a new
// layer on the host, and nothing of the build ever runs on the host
// itself. Each step's layer is cached under a key made of the layer below,
// the instruction, the environment it runs in and the content of the
// files it copies, so a rebuild runs again from the first changed step.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// Sandboxes starts the sandboxes a build's steps run in.
type Sandboxes interface {
	// Start starts a sandbox of team on rootfs. With writable its writes
	// go into rootfs itself (a build step's layer); what names it in the
	// sandbox list.
	Start(ctx context.Context, teamID, rootfs string, writable bool, what string) (Sandbox, error)
	// Fork makes a sandbox of the current state of the team's sandbox
	// ref (a snapshot restored), and says what ref runs on.
	Fork(ctx context.Context, teamID, ref string) (Sandbox, Origin, error)
}

// DiskReader is the optional ability of Sandboxes to read what a sandbox
// wrote straight from its durable disk: the upper directory of its
// overlay (overlayfs's format: whiteouts for what it removed), as it was
// at one instant. A save then copies only that.
type DiskReader interface {
	// ReadWrites calls fn with that directory and what the sandbox runs
	// on, or returns ErrNoDisk for a sandbox whose disk is ephemeral.
	ReadWrites(ctx context.Context, teamID, ref string, fn func(upper string, o Origin) error) error
}

// ErrNoDisk says a sandbox has no durable disk to read.
var ErrNoDisk = errors.New("the sandbox's disk is ephemeral")

// Origin is what a sandbox runs on: the root filesystem of its template's
// version, and the template's name.
type Origin struct {
	RootFS, Template string
}

// Sandbox is a started build sandbox.
type Sandbox interface {
	Exec(ctx context.Context, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) error
	Stat(ctx context.Context, path string) (agentapi.FileInfo, error)
	List(ctx context.Context, path string) ([]agentapi.FileInfo, error)
	Mkdir(ctx context.Context, path string) error
	Extract(ctx context.Context, dir string, r io.Reader, o agentclient.ExtractOptions) error
	// Archive reads a tar of path; with changedOnly, the regular files
	// the sandbox has not changed come without their bytes (see
	// agentapi.PAXUnchanged).
	Archive(ctx context.Context, path string, changedOnly bool) (io.ReadCloser, error)
	// Destroy removes the sandbox; it is called once, whatever happened.
	Destroy(ctx context.Context)
}

// Builtins resolves a built-in template (base, desktop).
type Builtins interface {
	// Builtin returns the root filesystem of the built-in template name
	// and what its sandboxes start with (ports, memory, the desktop), or
	// errdefs.ErrNotFound.
	Builtin(ctx context.Context, name string) (string, Config, error)
}

// Options configure a Builder.
type Options struct {
	StepTimeout   time.Duration // one RUN at most; default 30 minutes
	MaxImageBytes int64         // an image's compressed layers at most; default 8 GiB
	MaxLayerBytes int64         // what one step writes at most; default 10 GiB
	TmpDir        string        // where image archives are unpacked; default the system's
	// CacheTTL is how long a cached layer no template uses stays after a
	// build last used it; default a week.
	CacheTTL time.Duration
}

// Builder runs builds.
type Builder struct {
	cfg      Options
	layers   *layer.Store
	sbs      Sandboxes
	builtins Builtins
	store    Store
	log      *slog.Logger
	now      func() time.Time
}

// New returns a Builder.
func New(cfg Options, layers *layer.Store, sbs Sandboxes, builtins Builtins, store Store, log *slog.Logger) *Builder {
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = 30 * time.Minute
	}
	if cfg.MaxImageBytes == 0 {
		cfg.MaxImageBytes = 8 << 30
	}
	if cfg.MaxLayerBytes == 0 {
		cfg.MaxLayerBytes = 10 << 30
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 7 * 24 * time.Hour
	}
	return &Builder{cfg: cfg, layers: layers, sbs: sbs, builtins: builtins, store: store, log: log.With("component", "build"), now: time.Now}
}

// Request is one build.
type Request struct {
	TeamID     string
	Name       string
	BuiltBy    string
	Dockerfile string
	// ContextPath is the build context, a tar file on disk ("" for none).
	ContextPath string
	BuildArgs   map[string]string
	NoCache     bool
	// Image (a registry reference) or ImageArchive (a docker save or OCI
	// layout tar on disk) makes the template of that image alone, with no
	// Dockerfile.
	Image        string
	ImageArchive string
}

// Event is one line of a build's progress.
type Event struct {
	Step        int    // 1-based, over every stage; 0 before the first
	Steps       int    // how many there are
	Instruction string // the step's instruction, as written
	Line        int    // its line in the Dockerfile
	Cached      bool   // the step's layer came from the cache
	Output      string // a line the step printed
	Elapsed     time.Duration
}

// Build runs req and records the template it makes, as a new version.
func (b *Builder) Build(ctx context.Context, req Request, progress func(Event)) (*Template, error) {
	if err := validName(req.Name); err != nil {
		return nil, err
	}
	if _, _, err := b.builtins.Builtin(ctx, req.Name); !errors.Is(err, errdefs.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is a built-in template: give yours another name", errdefs.ErrInvalidArgument, req.Name)
	}
	if req.Image != "" || req.ImageArchive != "" {
		return b.buildImage(ctx, req, progress)
	}
	f, err := dockerfile.Parse(strings.NewReader(req.Dockerfile), req.BuildArgs)
	if err != nil {
		return nil, err
	}
	r := &run{b: b, req: req, file: f, start: b.now(), progress: progress}
	if req.ContextPath != "" {
		if r.context, err = openContext(req.ContextPath); err != nil {
			return nil, err
		}
	}
	for _, st := range f.Stages {
		r.steps += len(st.Instructions)
	}
	results := make([]stageResult, len(f.Stages))
	for i := range f.Stages {
		if results[i], err = r.stage(ctx, i, results[:i]); err != nil {
			return nil, err
		}
	}
	return b.record(ctx, req, f.Stages[len(f.Stages)-1].From, results[len(results)-1])
}

// buildImage makes a template of an image alone.
func (b *Builder) buildImage(ctx context.Context, req Request, progress func(Event)) (*Template, error) {
	r := &run{b: b, req: req, start: b.now(), progress: progress}
	from := req.Image
	var img v1.Image
	var err error
	if req.ImageArchive != "" {
		var cleanup func()
		if img, cleanup, err = openArchive(req.ImageArchive, b.cfg.TmpDir); err != nil {
			return nil, err
		}
		defer cleanup()
		digest, derr := img.Digest()
		if derr != nil {
			return nil, fmt.Errorf("%w: the image archive: %v", errdefs.ErrInvalidArgument, derr)
		}
		from = "image archive " + digest.String()[:19]
	} else if img, err = pull(ctx, req.Image); err != nil {
		return nil, err
	}
	res, err := r.importImage(ctx, img, from)
	if err != nil {
		return nil, err
	}
	req.Dockerfile = "FROM " + from + "\n"
	return b.record(ctx, req, from, res)
}

// record stores a build's result as the template's next version.
func (b *Builder) record(ctx context.Context, req Request, from string, res stageResult) (*Template, error) {
	versions, err := b.store.Templates(ctx, req.TeamID)
	if err != nil {
		return nil, err
	}
	t := &Template{
		ID: newID(), TeamID: req.TeamID, Name: req.Name, Version: 1, Stack: res.stack, Config: res.config,
		Source: req.Dockerfile, From: from, BuiltBy: req.BuiltBy,
		CreatedAt: b.now().UTC(), Size: b.size(res.stack),
	}
	for _, v := range versions {
		if v.Name == req.Name && v.TeamID == req.TeamID && v.Version >= t.Version {
			t.Version = v.Version + 1
		}
	}
	if err := b.store.InsertTemplate(ctx, t); err != nil {
		return nil, fmt.Errorf("recording template %s: %w", req.Name, err)
	}
	b.log.Info("template built", "template", t.Name, "version", t.Version, "team", t.TeamID, "layers", len(t.Stack.Layers))
	return t, nil
}

// size adds up the stack's own layers.
func (b *Builder) size(s layer.Stack) int64 {
	var n int64
	for _, id := range s.Layers {
		if l, err := b.layers.Get(id); err == nil {
			n += l.Size
		}
	}
	return n
}

// validName checks a custom template's name.
func validName(name string) error {
	if !namePattern.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("%w: template name %q: use lower-case letters, digits and dashes, starting with a letter, at most 63", errdefs.ErrInvalidArgument, name)
	}
	return nil
}
