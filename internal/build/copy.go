package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
	"github.com/ulikunitz/xz"
)

// copyContext does a COPY or ADD from the build context in sb.
func (r *run) copyContext(ctx context.Context, sb Sandbox, c Config, st dockerfile.Step) error {
	items, many, err := r.context.plan(st.Sources)
	if err != nil {
		return err
	}
	mode, err := chmodOf(st.Chmod)
	if err != nil {
		return err
	}
	if st.Kind == dockerfile.Add {
		if items, err = r.extractArchives(ctx, sb, c, st, items); err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
	}
	dir, rename, err := destination(ctx, sb, c, st.Dest, many)
	if err != nil {
		return err
	}
	if rename != "" {
		items[0].target = rename
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.context.writeTar(pw, items, mode)) }()
	err = sb.Extract(ctx, dir, pr, agentclient.ExtractOptions{Owner: st.Chown, FollowLinks: true})
	pr.CloseWithError(err)
	return err
}

// destination returns the directory a COPY extracts into and, when a lone
// file is copied to a file path, the name it takes there. A destination is
// a directory when it ends in "/", when the sources are a set, or when a
// directory of that name exists.
func destination(ctx context.Context, sb Sandbox, c Config, dest string, many bool) (dir, rename string, err error) {
	abs := absUnder(c.Workdir, dest)
	if many || strings.HasSuffix(dest, "/") {
		return abs, "", nil
	}
	if fi, err := sb.Stat(ctx, abs); err == nil && fi.Type == "dir" {
		return abs, "", nil
	} else if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return "", "", err
	}
	return path.Dir(abs), path.Base(abs), nil
}

// extractArchives extracts the local tar archives among an ADD's items
// into its destination, as Docker does, and returns the other items.
func (r *run) extractArchives(ctx context.Context, sb Sandbox, c Config, st dockerfile.Step, items []copyItem) ([]copyItem, error) {
	var rest []copyItem
	for _, it := range items {
		if !it.src.archive {
			rest = append(rest, it)
			continue
		}
		done, err := r.extractArchive(ctx, sb, absUnder(c.Workdir, st.Dest), it, st.Chown)
		if err != nil {
			return nil, err
		}
		if !done { // compressed, but no tar inside: copied as a file
			rest = append(rest, it)
		}
	}
	return rest, nil
}

// extractArchive streams one archive of the context, decompressed, into
// dir; it returns false when the file holds no tar after all.
func (r *run) extractArchive(ctx context.Context, sb Sandbox, dir string, it copyItem, chown string) (bool, error) {
	var done bool
	err := r.context.scan(func(hdr *tar.Header, rd io.Reader) error {
		if name, _ := contextName(hdr.Name); name != it.src.name || done {
			return nil
		}
		done = true
		plain, err := decompress(rd)
		if err != nil {
			return err
		}
		br := bufio.NewReader(plain)
		if head, _ := br.Peek(262); !isArchive(head) || len(head) < 262 || string(head[257:262]) != "ustar" {
			done = false // a compressed file that is not a tar archive
			return nil
		}
		return sb.Extract(ctx, dir, br, agentclient.ExtractOptions{Owner: chown, KeepOwners: chown == "", FollowLinks: true})
	})
	return done, err
}

// decompress opens a gzip, bzip2 or xz stream, or passes a plain one
// through.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(xzMagic))
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return gzip.NewReader(br)
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.Equal(head, xzMagic):
		return xz.NewReader(br)
	}
	return br, nil
}

// xzMagic starts an xz stream.
var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// copyFrom does a COPY --from: each source is archived in a sandbox of the
// stage or template it names and extracted in sb.
func (r *run) copyFrom(ctx context.Context, sb Sandbox, c Config, st dockerfile.Step, earlier []stageResult) error {
	from, err := r.stageOrTemplate(ctx, st.From, earlier)
	if err != nil {
		return err
	}
	rootfs, release, err := r.b.layers.Temporary(from.stack)
	if err != nil {
		return err
	}
	defer release()
	src, err := r.b.sbs.Start(ctx, r.req.TeamID, rootfs, false, "build of "+r.req.Name+", COPY --from="+st.From)
	if err != nil {
		return fmt.Errorf("starting a sandbox of %s: %w", st.From, err)
	}
	defer src.Destroy(context.WithoutCancel(ctx))
	many := len(st.Sources) > 1
	for _, s := range st.Sources {
		if strings.ContainsAny(s, "*?[") {
			return fmt.Errorf("%w: COPY --from with a wildcard (%s) is not supported: name each path", errdefs.ErrInvalidArgument, s)
		}
		if err := copyOne(ctx, src, sb, c, st, absUnder(from.config.Workdir, s), many); err != nil {
			return err
		}
	}
	return nil
}

// copyOne copies path p of src into sb at the step's destination.
func copyOne(ctx context.Context, src, sb Sandbox, c Config, st dockerfile.Step, p string, many bool) error {
	fi, err := src.Stat(ctx, p)
	if err != nil {
		return fmt.Errorf("COPY --from=%s %s: %w", st.From, p, err)
	}
	isDir := fi.Type == "dir"
	dir, rename, err := destination(ctx, sb, c, st.Dest, many || isDir)
	if err != nil {
		return err
	}
	rc, err := src.Archive(ctx, p, false)
	if err != nil {
		return err
	}
	defer rc.Close()
	mode, err := chmodOf(st.Chmod)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(rebase(pw, rc, isDir, rename, mode)) }()
	err = sb.Extract(ctx, dir, pr, agentclient.ExtractOptions{Owner: st.Chown, FollowLinks: true})
	pr.CloseWithError(err)
	return err
}

// rebase rewrites an agent archive (entries named from the copied path's
// base name) for extraction: a directory's content goes in without the
// directory itself, and a lone file may take a new name.
func rebase(w io.Writer, r io.Reader, isDir bool, rename string, mode int64) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if isDir {
			_, rest, _ := strings.Cut(name, "/")
			if rest == "" {
				continue
			}
			name = rest
		} else if rename != "" {
			name = rename
		}
		if hdr.Typeflag == tar.TypeDir {
			name += "/"
		}
		hdr.Name = name
		if mode != 0 && hdr.Typeflag != tar.TypeSymlink {
			hdr.Mode = mode
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// stageOrTemplate finds what COPY --from names: an earlier stage (by name
// or index), or a template.
func (r *run) stageOrTemplate(ctx context.Context, name string, earlier []stageResult) (stageResult, error) {
	if i := r.file.StageIndex(name, len(earlier)); i >= 0 {
		return earlier[i], nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(earlier) {
		return earlier[n], nil
	}
	return r.base(ctx, dockerfile.Stage{From: name}, earlier)
}

// chmodOf reads COPY --chmod's octal mode; "" is 0 (keep).
func chmodOf(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	m, err := strconv.ParseInt(s, 8, 32)
	if err != nil || m < 0 || m > 0o7777 {
		return 0, fmt.Errorf("%w: --chmod=%s: want an octal mode such as 755", errdefs.ErrInvalidArgument, s)
	}
	return m, nil
}

// stackKey names a stack in cache keys.
func stackKey(s layer.Stack) string {
	return s.Base + ":" + strings.Join(s.Layers, ",")
}
