package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/errdefs"
)

// truncatedTar is entries, then one whose header claims 8 GiB but whose
// archive ends after 1 KiB of it.
func truncatedTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(makeTar(t, entries...))
	buf.Truncate(buf.Len() - 1024) // makeTar's end-of-archive blocks
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 8 << 30}); err != nil {
		t.Fatal(err)
	}
	tw.Write(bytes.Repeat([]byte("x"), 1024))
	tw.Flush()
	return buf.Bytes()
}

// TestExtractionIsAllOrNothing: an archive that fails half way leaves the
// destination as it was: what it made is gone, what it replaced is back.
func TestExtractionIsAllOrNothing(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dst := t.TempDir()
	os.WriteFile(filepath.Join(dst, "keep"), []byte("old"), 0o644)
	os.Mkdir(filepath.Join(dst, "d"), 0o755)
	os.WriteFile(filepath.Join(dst, "d", "f"), []byte("old-f"), 0o644)
	os.Symlink("keep", filepath.Join(dst, "way"))
	bad := truncatedTar(t, entry{name: "new/a", typ: tar.TypeReg, body: "a"}, entry{name: "keep", typ: tar.TypeReg, body: "new"},
		entry{name: "d/f", typ: tar.TypeReg, body: "new-f"}, entry{name: "way/x", typ: tar.TypeReg, body: "x"})
	err := c.WriteArchive(ctx, dst, bytes.NewReader(bad))
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "big") {
		t.Fatalf("a truncated archive: %v, want invalid argument naming the entry", err)
	}
	for name, want := range map[string]string{"keep": "old", "d/f": "old-f"} {
		if b, err := os.ReadFile(filepath.Join(dst, name)); string(b) != want {
			t.Errorf("%s after the failed extraction: %q, %v; want %q", name, b, err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dst, "way")); err != nil || target != "keep" {
		t.Errorf("the symlink the archive replaced by a directory: %q, %v", target, err)
	}
	entries, _ := os.ReadDir(dst)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "d keep way" {
		t.Errorf("the destination after the failed extraction holds %v, want d keep way", names)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if err := c.WriteArchive(ctx, fresh, bytes.NewReader(truncatedTar(t, entry{name: "a", typ: tar.TypeReg, body: "a"}))); err == nil {
		t.Fatal("a truncated archive extracted")
	}
	if _, err := os.Lstat(fresh); !os.IsNotExist(err) {
		t.Errorf("the destination made for a failed extraction is left: %v", err)
	}
}
