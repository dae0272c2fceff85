package integration

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runtools/runtools/client"
)

// TestBuildLimits: a build context or an image over the server's limits is
// refused with the limit and the flag that sets it, and leaves nothing.
func TestBuildLimits(t *testing.T) {
	s := startServer(t, "--build-max-context-mb", "1", "--build-max-image-mb", "1")

	dir := t.TempDir()
	big := make([]byte, 2<<20) // random, so that compression does not shrink it
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nCOPY big.bin /big.bin\n"})
	_, lines, err := buildTemplate(t, s, "too-big-context", dir, client.BuildOptions{})
	if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "limit of 1 MB (--build-max-context-mb)") {
		t.Errorf("a 2 MB context under a 1 MB limit: %v\n%s", err, progressText(lines))
	}

	img, err := random.Image(2<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.tar")
	tag, _ := name.NewTag("big:1")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = s.client().BuildCustomTemplate(ctxT(t, time.Minute), "too-big-image", client.BuildOptions{ImageArchive: f}, nil)
	if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "limit of 1 MB (--build-max-") {
		t.Errorf("a 2 MB image under a 1 MB limit: %v", err)
	}

	noBuildLeft(t, s, "too-big")
}
