package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// An OCI image becomes one layer: its layers flattened (whiteouts and
// opaque directories applied by go-containerregistry), extracted by the
// agent of a sandbox on an empty root, with owners, modes, hard links and
// symlinks as the image has them. The image's config gives the template's
// ENV, WORKDIR, USER, ENTRYPOINT, CMD and EXPOSE. The layer is cached by
// the image's digest, so a second build from the same image pulls nothing.

// pull fetches an image from its registry, with the credentials of the
// docker configuration of the user the server runs as.
func pull(ctx context.Context, ref string) (v1.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: image %q: %v", errdefs.ErrInvalidArgument, ref, err)
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		return nil, fmt.Errorf("%w: pulling %s: %v", errdefs.ErrInvalidArgument, ref, err)
	}
	return img, nil
}

// fromImage makes a stage's start from an image: a registry reference.
func (r *run) fromImage(ctx context.Context, ref string) (stageResult, error) {
	img, err := pull(ctx, ref)
	if err != nil {
		return stageResult{}, err
	}
	return r.importImage(ctx, img, ref)
}

// importImage makes img one layer over nothing, or takes it from the cache.
func (r *run) importImage(ctx context.Context, img v1.Image, what string) (stageResult, error) {
	digest, err := img.Digest()
	if err != nil {
		return stageResult{}, fmt.Errorf("%w: image %s: %v", errdefs.ErrInvalidArgument, what, err)
	}
	size, err := imageSize(img)
	if err != nil {
		return stageResult{}, fmt.Errorf("%w: image %s: %v", errdefs.ErrInvalidArgument, what, err)
	}
	if size > r.b.cfg.MaxImageBytes {
		return stageResult{}, fmt.Errorf("%w: image %s is %d MB, more than the server's limit of %d MB (--build-max-image-mb)", errdefs.ErrInvalidArgument, what, size>>20, r.b.cfg.MaxImageBytes>>20)
	}
	cfg, err := imageConfig(img)
	if err != nil {
		return stageResult{}, fmt.Errorf("%w: image %s: %v", errdefs.ErrInvalidArgument, what, err)
	}
	sum := sha256.Sum256([]byte("image " + digest.String()))
	key := hex.EncodeToString(sum[:])
	ev := Event{Step: r.done, Steps: r.steps, Instruction: fmt.Sprintf("FROM %s (%s, %d MB)", what, digest.String()[:19], size>>20)}
	if l, ok := r.b.layers.Cached(key); ok && !r.req.NoCache {
		ev.Cached = true
		r.emit(ev)
		return stageResult{stack: layer.Stack{}.Push(l.ID), config: cfg}, nil
	}
	r.emit(ev)
	id, err := r.extractImage(ctx, img, what)
	if err != nil {
		return stageResult{}, err
	}
	if err := r.b.layers.SetCache(key, id); err != nil {
		r.b.log.Warn("caching an image", "image", what, "err", err)
	}
	return stageResult{stack: layer.Stack{}.Push(id), config: cfg}, nil
}

// extractImage writes img's flattened filesystem into a new layer.
func (r *run) extractImage(ctx context.Context, img v1.Image, what string) (string, error) {
	return r.inNewLayer(ctx, layer.Stack{}, "build of "+r.req.Name+", importing "+what, "FROM "+what, func(ctx context.Context, sb Sandbox) error {
		flat := mutate.Extract(img)
		defer flat.Close()
		if err := sb.Extract(ctx, "/", flat, agentclient.ExtractOptions{KeepOwners: true}); err != nil {
			return fmt.Errorf("unpacking %s: %w", what, err)
		}
		return nil
	})
}

// imageSize adds up the compressed sizes of an image's layers.
func imageSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			return 0, err
		}
		n += s
	}
	return n, nil
}

// imageConfig reads what a template takes from an image's config.
func imageConfig(img v1.Image) (Config, error) {
	f, err := img.ConfigFile()
	if err != nil {
		return Config{}, err
	}
	if f == nil {
		return Config{}, errors.New("no config")
	}
	c := f.Config
	out := Config{Env: dockerfile.Env(c.Env), Workdir: c.WorkingDir, User: c.User, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Labels: c.Labels}
	if len(out.Env) == 0 {
		out.Env = defaultEnv
	}
	for p := range c.ExposedPorts {
		num, proto, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(num); err == nil && (proto == "" || proto == "tcp") && n > 0 && n < 65536 {
			out.Ports = mergePorts(out.Ports, []int{n})
		}
	}
	slices.Sort(out.Ports)
	return out, nil
}
