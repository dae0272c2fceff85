// Package tartest builds tar archives from a short text spec and checks
// that an extraction changed nothing outside its destination. The fuzz
// targets of the two extractors, the agent's and the CLI's, share it.
package tartest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FromSpec builds a tar archive from spec, one entry a line:
//
//	TYPE[MODE] NAME[ -> TARGET]
//
// TYPE is f (a file, whose content is its name), d (a directory), l (a
// symlink to TARGET), h (a hard link to TARGET) or c (a character
// device); MODE is octal (default 644, 755 for a directory). Lines that
// do not parse, or that tar cannot encode, are left out.
func FromSpec(spec string) []byte {
	var out bytes.Buffer
	for line := range strings.SplitSeq(spec, "\n") {
		if hdr, body, ok := parseLine(line); ok {
			// Each entry on its own, so one that cannot be encoded leaves
			// no half-written header behind.
			var entry bytes.Buffer
			tw := tar.NewWriter(&entry)
			if tw.WriteHeader(hdr) != nil {
				continue
			}
			if _, err := tw.Write([]byte(body)); err != nil || tw.Flush() != nil {
				continue
			}
			out.Write(entry.Bytes())
		}
	}
	out.Write(make([]byte, 1024)) // the end-of-archive marker: two zero blocks
	return out.Bytes()
}

func parseLine(line string) (hdr *tar.Header, body string, ok bool) {
	if line == "" {
		return nil, "", false
	}
	modeText, rest, ok := strings.Cut(line[1:], " ")
	if !ok {
		return nil, "", false
	}
	name, target, _ := strings.Cut(rest, " -> ")
	hdr = &tar.Header{Name: name, Linkname: target, Mode: 0o644}
	switch line[0] {
	case 'f':
		hdr.Typeflag, body = tar.TypeReg, name
		hdr.Size = int64(len(body))
	case 'd':
		hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
	case 'l':
		hdr.Typeflag = tar.TypeSymlink
	case 'h':
		hdr.Typeflag = tar.TypeLink
	case 'c':
		hdr.Typeflag = tar.TypeChar
	default:
		return nil, "", false
	}
	if modeText != "" {
		m, err := strconv.ParseUint(modeText, 8, 12)
		if err != nil {
			return nil, "", false
		}
		hdr.Mode = int64(m)
	}
	return hdr, body, true
}

// Escape is a temporary directory laid out to catch an extraction that
// escapes: Dst, the destination, holds symlinks (absolute and relative)
// to Outside, to a file there and to "..", and a hard link to that file;
// Outside, next to Dst, holds the file and a directory.
type Escape struct {
	Base, Dst, Outside string
	before             map[string]string
}

// NewEscape lays out the directory and records what is outside Dst.
func NewEscape(tb testing.TB) *Escape {
	tb.Helper()
	base := tb.TempDir()
	// An extraction may leave directories without permissions: give them
	// back so that the temporary directory can be removed (this cleanup
	// runs before TempDir's).
	tb.Cleanup(func() {
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	e := &Escape{Base: base, Dst: filepath.Join(base, "dst"), Outside: filepath.Join(base, "outside")}
	victim := filepath.Join(e.Outside, "victim")
	for _, step := range []error{
		os.MkdirAll(filepath.Join(e.Outside, "dir"), 0o755),
		os.WriteFile(victim, []byte("original"), 0o644),
		os.WriteFile(filepath.Join(e.Outside, "dir", "inner"), []byte("original"), 0o600),
		os.MkdirAll(filepath.Join(e.Dst, "sub"), 0o755),
		os.Symlink(e.Outside, filepath.Join(e.Dst, "abs-dir")),
		os.Symlink("../outside", filepath.Join(e.Dst, "rel-dir")),
		os.Symlink(victim, filepath.Join(e.Dst, "file-link")),
		os.Symlink("..", filepath.Join(e.Dst, "up")),
		os.Symlink("../../outside/dir", filepath.Join(e.Dst, "sub", "deep-link")),
		os.Link(victim, filepath.Join(e.Dst, "hard")),
	} {
		if step != nil {
			tb.Fatal(step)
		}
	}
	var err error
	if e.before, err = e.outside(); err != nil {
		tb.Fatal(err)
	}
	return e
}

// outside describes every file under Base but not under Dst: its type,
// permissions and content or link target.
func (e *Escape) outside() (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(e.Base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == e.Dst {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v", fi.Mode())
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + strconv.Quote(string(b))
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		rel, _ := filepath.Rel(e.Base, p)
		out[rel] = desc
		return nil
	})
	return out, err
}

// Check fails if anything outside Dst was created, removed or changed.
func (e *Escape) Check(tb testing.TB, what string) {
	tb.Helper()
	after, err := e.outside()
	if err != nil {
		tb.Fatalf("%s: reading what is outside the destination: %v", what, err)
	}
	for p, was := range e.before {
		if now, ok := after[p]; !ok || now != was {
			tb.Fatalf("%s changed %s outside the destination: %s, now %q", what, p, was, now)
		}
	}
	for p, now := range after {
		if _, ok := e.before[p]; !ok {
			tb.Fatalf("%s created %s (%s) outside the destination", what, p, now)
		}
	}
}
