package agent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/errdefs"
)

// onlyReader hides a reader's other methods so the client cannot learn the
// length in advance and must stream.
type onlyReader struct{ io.Reader }

func TestFileRoundTrip(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "big.bin")

	const size = 10 << 20
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.Reader, size), h)
	fi, err := c.WriteFile(ctx, path, onlyReader{src}, 0o640, true)
	if err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	if fi.Size != size || fi.Mode != 0o640 || fi.Type != "file" || fi.Path != path || fi.Name != "big.bin" {
		t.Errorf("WriteFile info = %+v", fi)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("on disk: %v %v", st, err)
	}

	rc, n, err := c.ReadFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h.Reset()
	got, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	if n != size || got != size || !bytes.Equal(h.Sum(nil), want) {
		t.Errorf("read back %d bytes (announced %d), checksum match %v", got, n, bytes.Equal(h.Sum(nil), want))
	}

	// Overwrite keeps no temporary files behind and honours the default mode.
	if _, err := c.WriteFile(ctx, path, strings.NewReader("small"), 0, false); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
	if b, _ := os.ReadFile(path); string(b) != "small" {
		t.Errorf("content = %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("default mode = %v", st.Mode())
	}
}

func TestWriteFileErrors(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dir := t.TempDir()

	_, err := c.WriteFile(ctx, filepath.Join(dir, "missing", "f"), strings.NewReader("x"), 0, false)
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "parent directory") {
		t.Errorf("missing parent: %v", err)
	}
	if _, err := c.WriteFile(ctx, dir, strings.NewReader("x"), 0, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("write over a directory: %v", err)
	}
	if _, err := c.WriteFile(ctx, "relative/path", strings.NewReader("x"), 0, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("relative path: %v", err)
	}
	// Writing at a symlink replaces the link; the target is untouched.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	fi, err := c.WriteFile(ctx, link, strings.NewReader("new"), 0, false)
	if err != nil || fi.Type != "file" {
		t.Fatalf("write at symlink: %+v %v", fi, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("symlink target written through: %q", b)
	}
}

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dir := t.TempDir()
	if _, _, err := c.ReadFile(ctx, dir); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("read a directory: %v", err)
	}
	if _, _, err := c.ReadFile(ctx, filepath.Join(dir, "nope")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("read a missing file: %v", err)
	}
	if _, _, err := c.ReadFile(ctx, "nope"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("relative path: %v", err)
	}
	// An empty file reads as empty.
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	rc, _, err := c.ReadFile(ctx, filepath.Join(dir, "empty"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || len(b) != 0 {
		t.Errorf("empty file: %q %v", b, err)
	}
}

func TestStatListMkdirRemove(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dir := t.TempDir()

	fi, err := c.Mkdir(ctx, filepath.Join(dir, "a", "b", "c"), true)
	if err != nil || fi.Type != "dir" {
		t.Fatalf("mkdir -p: %+v %v", fi, err)
	}
	if _, err := c.Mkdir(ctx, filepath.Join(dir, "a", "b", "c"), true); err != nil {
		t.Errorf("mkdir -p of an existing dir: %v", err)
	}
	if _, err := c.Mkdir(ctx, filepath.Join(dir, "a"), false); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("mkdir of an existing dir: %v", err)
	}
	if _, err := c.Mkdir(ctx, filepath.Join(dir, "x", "y"), false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("mkdir without parent: %v", err)
	}

	os.WriteFile(filepath.Join(dir, "a", "file.txt"), []byte("12345"), 0o600)
	os.Symlink("file.txt", filepath.Join(dir, "a", "link"))
	st, err := c.Stat(ctx, filepath.Join(dir, "a", "link"))
	if err != nil || st.Type != "symlink" || st.LinkTarget != "file.txt" {
		t.Errorf("stat symlink: %+v %v", st, err)
	}
	st, err = c.Stat(ctx, filepath.Join(dir, "a", "file.txt"))
	if err != nil || st.Type != "file" || st.Size != 5 || st.Mode != 0o600 || st.ModTime.IsZero() {
		t.Errorf("stat file: %+v %v", st, err)
	}
	if _, err := c.Stat(ctx, filepath.Join(dir, "none")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("stat missing: %v", err)
	}

	list, err := c.List(ctx, filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name+":"+e.Type)
	}
	if strings.Join(names, ",") != "b:dir,file.txt:file,link:symlink" {
		t.Errorf("list = %v", names)
	}
	if list, err := c.List(ctx, filepath.Join(dir, "a", "b", "c")); err != nil || list == nil || len(list) != 0 {
		t.Errorf("list of an empty dir = %#v, %v", list, err)
	}
	if _, err := c.List(ctx, filepath.Join(dir, "a", "file.txt")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("list a file: %v", err)
	}
	if _, err := c.List(ctx, filepath.Join(dir, "none")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("list missing: %v", err)
	}

	if err := c.Remove(ctx, filepath.Join(dir, "a"), false); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("remove non-empty dir: %v", err)
	}
	if err := c.Remove(ctx, filepath.Join(dir, "a", "link"), false); err != nil {
		t.Errorf("remove symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "file.txt")); err != nil {
		t.Errorf("removing a symlink removed its target: %v", err)
	}
	if err := c.Remove(ctx, filepath.Join(dir, "a"), true); err != nil {
		t.Errorf("remove -r: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("still there: %v", err)
	}
	if err := c.Remove(ctx, filepath.Join(dir, "a"), true); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("remove missing: %v", err)
	}
	if err := c.Remove(ctx, "/", true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("remove /: %v", err)
	}
	if err := c.Remove(ctx, "/..", true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("remove /..: %v", err)
	}
}
