package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/objstore/s3test"
)

// A directory goes into a real S3 server and comes back the same; a
// missing object is not found; a removed one is gone.
func TestStore(t *testing.T) {
	srv := s3test.Start(t)
	ctx := t.Context()
	s, err := Open(ctx, srv.URL("images")+"&region=us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("hello"), 0o600)
	if _, err := s.PutDir(ctx, "a/b", src, []string{"f"}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if err := s.GetDir(ctx, "a/b", dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "hello" {
		t.Errorf("got %q", b)
	}
	if err := s.Remove(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if err := s.GetDir(ctx, "a/b", filepath.Join(t.TempDir(), "x")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("a removed object: %v", err)
	}
	if _, err := Open(ctx, "s3://b"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("no endpoint: %v", err)
	}
}
