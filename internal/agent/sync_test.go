package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// TestSyncUnchanged: a sync keeps a file the archive marks unchanged as
// the destination has it, writes the others, and refuses when a file
// marked unchanged is not there as what it was.
func TestSyncUnchanged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("keeping owners needs root")
	}
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dst := filepath.Join(t.TempDir(), "etc")
	os.MkdirAll(dst, 0o755)
	os.WriteFile(filepath.Join(dst, "same"), []byte("unchanged"), 0o644)
	os.WriteFile(filepath.Join(dst, "edited"), []byte("old"), 0o644)
	os.Symlink("same", filepath.Join(dst, "link"))
	os.Symlink("etc", filepath.Join(filepath.Dir(dst), "bin")) // a top-level symlink
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "bin", Typeflag: tar.TypeSymlink, PAXRecords: map[string]string{agentapi.PAXUnchanged: "3"}})
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "etc/same", Typeflag: tar.TypeReg, Mode: 0o644, PAXRecords: map[string]string{agentapi.PAXUnchanged: "9"}})
	tw.WriteHeader(&tar.Header{Name: "etc/link", Typeflag: tar.TypeSymlink, PAXRecords: map[string]string{agentapi.PAXUnchanged: "4"}})
	tw.WriteHeader(&tar.Header{Name: "etc/edited", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	io.WriteString(tw, "new")
	tw.Close()
	archive := buf.Bytes()
	sync := func() error {
		return c.ExtractArchive(ctx, filepath.Dir(dst), bytes.NewReader(archive), agentclient.ExtractOptions{KeepOwners: true, Sync: true})
	}

	before, _ := os.Stat(filepath.Join(dst, "same"))
	if err := sync(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dst, "same"))
	if b, _ := os.ReadFile(filepath.Join(dst, "same")); !os.SameFile(before, after) || string(b) != "unchanged" {
		t.Errorf("the unchanged file: %q, same file %v", b, os.SameFile(before, after))
	}
	if target, err := os.Readlink(filepath.Join(dst, "link")); target != "same" {
		t.Errorf("the unchanged symlink: %q, %v", target, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "edited")); string(b) != "new" {
		t.Errorf("edited: %q", b)
	}
	for what, spoil := range map[string]func(p string){
		"a directory in its place": func(p string) { os.Remove(p); os.Mkdir(p, 0o755) },
		"nothing in its place":     func(p string) { os.RemoveAll(p) },
		"a file for a symlink": func(p string) {
			os.Mkdir(p, 0o755) // "same" back, as a directory...
			link := filepath.Join(filepath.Dir(p), "link")
			os.Remove(link)
			os.WriteFile(link, nil, 0o644) // ...and the link a file
		},
	} {
		spoil(filepath.Join(dst, "same"))
		if err := sync(); !errors.Is(err, errdefs.ErrConflict) {
			t.Errorf("a sync with %s where a file is marked unchanged: %v, want a conflict", what, err)
		}
	}
}
