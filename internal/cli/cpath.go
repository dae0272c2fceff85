package cli

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// cpSide is one side of `sandbox cp`: a path inside a sandbox, a local
// path, or "-" for a tar stream on stdin or stdout.
type cpSide struct {
	Sandbox string // empty for a local path
	Path    string
}

func (s cpSide) remote() bool { return s.Sandbox != "" }
func (s cpSide) stdio() bool  { return !s.remote() && s.Path == "-" }

func (s cpSide) String() string {
	if s.remote() {
		return s.Sandbox + ":" + s.Path
	}
	return s.Path
}

// parseCpSide splits NAME:PATH from a local path the way docker cp does:
// an absolute path, or one whose part before the first colon starts with
// "." or holds a "/", is local.
func parseCpSide(arg string) cpSide {
	if arg == "-" || filepath.IsAbs(arg) {
		return cpSide{Path: arg}
	}
	name, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(name, ".") || strings.Contains(name, "/") {
		return cpSide{Path: arg}
	}
	if name == "" {
		return cpSide{Sandbox: ":", Path: p} // flagged by parseCpArgs
	}
	return cpSide{Sandbox: name, Path: p}
}

// parseCpArgs parses SRC and DST; exactly one must be in a sandbox.
func parseCpArgs(src, dst string) (from, to cpSide, err error) {
	from, to = parseCpSide(src), parseCpSide(dst)
	for _, s := range []cpSide{from, to} {
		if !s.remote() {
			if s.Path == "" {
				return from, to, fmt.Errorf("empty path: give a local path, NAME:/path, or - for a tar stream")
			}
			continue
		}
		if s.Sandbox == ":" {
			return from, to, fmt.Errorf("%q needs a sandbox name before the colon, e.g. my-env%s", ":"+s.Path, ":"+s.Path)
		}
		if s.Path == "" {
			return from, to, fmt.Errorf("%q needs a path after the colon, e.g. %s:/root/", s.Sandbox+":", s.Sandbox)
		}
		if !path.IsAbs(s.Path) {
			return from, to, fmt.Errorf("sandbox paths are absolute: write %s:%s instead of %s", s.Sandbox, path.Join(defaultDir, s.Path), s)
		}
	}
	switch {
	case from.remote() && to.remote():
		return from, to, fmt.Errorf("cannot copy from one sandbox to another (%s to %s): copy to a local path first", from, to)
	case !from.remote() && !to.remote():
		return from, to, fmt.Errorf("one of SRC and DST must be in a sandbox, written NAME:/path, e.g. my-env:/root/file")
	case from.stdio() && to.stdio():
		return from, to, fmt.Errorf("SRC and DST cannot both be -")
	}
	return from, to, nil
}

// contentsOnly reports a source ending in "/." (docker cp's "copy the
// directory's content, not the directory").
func contentsOnly(p string) bool { return strings.HasSuffix(p, "/.") || p == "." }

// wantsDir reports a destination ending in "/", which must be a directory.
func wantsDir(p string) bool { return strings.HasSuffix(p, "/") }
