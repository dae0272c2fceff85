package build

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/runtools/runtools/internal/errdefs"
)

// A build's context is the tar the client sent: the files COPY and ADD
// take. It stays on disk as sent and is read again for each COPY; an index
// of its entries, with a digest of each file, is kept in memory.

// ctxEntry is one entry of the context.
type ctxEntry struct {
	name    string // clean, relative, "/"-separated
	typ     byte
	mode    int64
	size    int64
	link    string
	digest  string // sha256 of a regular file's content
	archive bool   // a regular file that is a tar archive (plain, gzip, bzip2 or xz)
}

// buildContext is an indexed context tar.
type buildContext struct {
	path    string
	entries map[string]*ctxEntry
}

// openContext indexes the context tar at path, leaving out what its
// .dockerignore excludes. A context with a bad entry (an absolute name, one
// that climbs out with "..") is refused whole.
func openContext(path string) (*buildContext, error) {
	c := &buildContext{path: path, entries: map[string]*ctxEntry{}}
	var ignore *patternmatcher.PatternMatcher
	err := c.scan(func(hdr *tar.Header, r io.Reader) error {
		name, err := contextName(hdr.Name)
		if err != nil || name == "." {
			return err
		}
		e := &ctxEntry{name: name, typ: hdr.Typeflag, mode: hdr.Mode, size: hdr.Size, link: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg {
			if e.digest, e.archive, err = digest(r); err != nil {
				return fmt.Errorf("reading %s in the build context: %w", name, err)
			}
		}
		if name == ".dockerignore" && hdr.Typeflag == tar.TypeReg {
			if ignore, err = c.readIgnore(); err != nil {
				return err
			}
		}
		c.entries[name] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ignore != nil {
		for name := range c.entries {
			if skip, _ := ignore.MatchesOrParentMatches(name); skip && name != ".dockerignore" {
				delete(c.entries, name)
			}
		}
	}
	return c, nil
}

// readIgnore reads the context's .dockerignore.
func (c *buildContext) readIgnore() (*patternmatcher.PatternMatcher, error) {
	var pm *patternmatcher.PatternMatcher
	err := c.scan(func(hdr *tar.Header, r io.Reader) error {
		if name, _ := contextName(hdr.Name); name != ".dockerignore" || pm != nil {
			return nil
		}
		patterns, err := ignorefile.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			return fmt.Errorf("%w: .dockerignore: %w", errdefs.ErrInvalidArgument, err)
		}
		pm, err = patternmatcher.New(patterns)
		if err != nil {
			return fmt.Errorf("%w: .dockerignore: %w", errdefs.ErrInvalidArgument, err)
		}
		return nil
	})
	return pm, err
}

// scan reads the context tar from its start, calling fn for each entry.
func (c *buildContext) scan(fn func(*tar.Header, io.Reader) error) error {
	f, err := os.Open(c.path)
	if err != nil {
		return fmt.Errorf("opening the build context: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: the build context is not a whole tar archive: %w", errdefs.ErrInvalidArgument, err)
		}
		if err := fn(hdr, tr); err != nil {
			return err
		}
	}
}

// contextName cleans an entry name of the context and checks it stays in.
func contextName(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: build context entry %q is outside the context", errdefs.ErrInvalidArgument, name)
	}
	return clean, nil
}

// digest hashes a file's content and says whether it is a tar archive.
func digest(r io.Reader) (string, bool, error) {
	h := sha256.New()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	h.Write(head[:n])
	if _, err := io.Copy(h, r); err != nil {
		return "", false, err
	}
	return hex.EncodeToString(h.Sum(nil)), isArchive(head[:n]), nil
}

// isArchive recognizes a tar archive, plain, gzipped, bzip2ed or xz'd,
// by its first bytes.
func isArchive(head []byte) bool {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return true
	case len(head) >= 3 && string(head[:3]) == "BZh":
		return true
	case bytes.HasPrefix(head, xzMagic):
		return true
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return true
	}
	return false
}
