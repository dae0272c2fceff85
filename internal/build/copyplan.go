package build

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// copyItem is one context entry a COPY takes, and its name under the
// directory it is extracted into.
type copyItem struct {
	src    *ctxEntry
	target string
}

// plan resolves a COPY's sources against the context, as Docker does: a
// source is a path or a glob relative to the context's root; a directory
// gives its content, a file or a link itself. Nothing outside the context
// is ever named: "../x" is refused, and so is a source that is, or goes
// through, a symlink leading out of the context. many says the sources
// name a set (several, a glob or a directory): the destination is then a
// directory.
func (c *buildContext) plan(sources []string) (items []copyItem, many bool, err error) {
	many = len(sources) > 1
	for _, src := range sources {
		clean := path.Clean(strings.TrimPrefix(src, "/"))
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, false, fmt.Errorf("%w: %s is outside the build context", errdefs.ErrInvalidArgument, src)
		}
		var matched []string
		if strings.ContainsAny(clean, "*?[") {
			for name := range c.entries {
				if ok, err := path.Match(clean, name); err != nil {
					return nil, false, fmt.Errorf("%w: %s: %v", errdefs.ErrInvalidArgument, src, err)
				} else if ok {
					matched = append(matched, name)
				}
			}
			slices.Sort(matched)
			if len(matched) == 0 {
				return nil, false, fmt.Errorf("%w: %s matches no file of the build context", errdefs.ErrInvalidArgument, src)
			}
			many = true
		} else {
			matched = []string{clean}
		}
		for _, name := range matched {
			got, dir, err := c.take(src, name)
			if err != nil {
				return nil, false, err
			}
			items, many = append(items, got...), many || dir
		}
	}
	return items, many, nil
}

// take returns what source name gives: a directory's content (dir is
// then true), or the entry.
func (c *buildContext) take(src, name string) (items []copyItem, dir bool, err error) {
	e, ok := c.entries[name]
	isDir := name == "." || ok && e.typ == tar.TypeDir || !ok && c.hasUnder(name)
	if isDir {
		for n, e := range c.entries {
			if rel, ok := under(name, n); ok {
				items = append(items, copyItem{src: e, target: rel})
			}
		}
		slices.SortFunc(items, func(a, b copyItem) int { return strings.Compare(a.target, b.target) })
		return items, true, nil
	}
	if !ok {
		if link := c.linkOnTheWay(name); link != "" {
			return nil, false, fmt.Errorf("%w: %s goes through the symlink %s: COPY takes files of the build context as they are, and does not follow links", errdefs.ErrInvalidArgument, src, link)
		}
		return nil, false, fmt.Errorf("%w: %s is not in the build context (or .dockerignore leaves it out)", errdefs.ErrInvalidArgument, src)
	}
	if e.typ == tar.TypeSymlink && escapes(name, e.link) {
		return nil, false, fmt.Errorf("%w: %s is a symlink to %s, outside the build context", errdefs.ErrInvalidArgument, src, e.link)
	}
	return []copyItem{{src: e, target: path.Base(name)}}, false, nil
}

// under returns name relative to dir when it is inside it.
func under(dir, name string) (string, bool) {
	if dir == "." {
		return name, name != "."
	}
	rel, ok := strings.CutPrefix(name, dir+"/")
	return rel, ok && rel != ""
}

func (c *buildContext) hasUnder(dir string) bool {
	for n := range c.entries {
		if _, ok := under(dir, n); ok {
			return true
		}
	}
	return false
}

// linkOnTheWay returns the first component of name that is a symlink.
func (c *buildContext) linkOnTheWay(name string) string {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		if e, ok := c.entries[p]; ok && e.typ == tar.TypeSymlink {
			return p
		}
	}
	return ""
}

// escapes says whether the symlink at name, pointing to target, leads out
// of the context.
func escapes(name, target string) bool {
	if path.IsAbs(target) {
		return true
	}
	joined := path.Join(path.Dir(name), target)
	return joined == ".." || strings.HasPrefix(joined, "../")
}

// planDigest identifies what a COPY puts into a layer: the names, kinds,
// modes, link targets and contents of its items.
func planDigest(items []copyItem) string {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%c\x00%o\x00%s\x00%s\n", it.target, it.src.typ, it.src.mode, it.src.link, it.src.digest)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeTar streams the items of a plan as a tar, named by their targets,
// in the order of the context; mode, when not 0, replaces every entry's
// permission bits (COPY --chmod).
func (c *buildContext) writeTar(w io.Writer, items []copyItem, mode int64) error {
	byName := map[string][]string{}
	for _, it := range items {
		byName[it.src.name] = append(byName[it.src.name], it.target)
	}
	tw := tar.NewWriter(w)
	err := c.scan(func(hdr *tar.Header, r io.Reader) error {
		name, _ := contextName(hdr.Name)
		targets := byName[name]
		if len(targets) == 0 {
			return nil
		}
		if hdr.Typeflag == tar.TypeLink {
			return fmt.Errorf("%w: %s is a hard link; a build context holds files, directories and symlinks", errdefs.ErrInvalidArgument, name)
		}
		var once []byte // one source under several names: rare, and read once
		if len(targets) > 1 {
			var err error
			if once, err = io.ReadAll(io.LimitReader(r, hdr.Size)); err != nil {
				return fmt.Errorf("reading %s in the build context: %w", name, err)
			}
		}
		for _, t := range targets {
			out := &tar.Header{Name: t, Typeflag: hdr.Typeflag, Mode: hdr.Mode, Size: hdr.Size, Linkname: hdr.Linkname, ModTime: hdr.ModTime}
			if mode != 0 && hdr.Typeflag != tar.TypeSymlink {
				out.Mode = mode
			}
			if hdr.Typeflag == tar.TypeDir {
				out.Name += "/"
			}
			if err := tw.WriteHeader(out); err != nil {
				return err
			}
			content := r
			if once != nil {
				content = bytes.NewReader(once)
			}
			if _, err := io.Copy(tw, content); err != nil {
				return fmt.Errorf("copying %s from the build context: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
