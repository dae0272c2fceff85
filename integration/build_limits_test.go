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

// TestBuildLimits: a build context, an image or a step's writes over the
// server's limits are refused with the limit and the flag that sets it,
// and leave nothing.
func TestBuildLimits(t *testing.T) {
	s := startServer(t, "--build-max-context-mb", "1", "--build-max-image-mb", "1", "--build-disk-mb", "8")

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

	dir = t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nRUN head -c 20000000 /dev/urandom >/big && sleep 10\n"})
	start := time.Now()
	_, lines, err = buildTemplate(t, s, "too-big-step", dir, client.BuildOptions{})
	if !errors.Is(err, client.ErrResourceExhausted) || !strings.Contains(err.Error(), "more than the 8 MB a build step may") {
		t.Errorf("a step writing 20 MB under an 8 MB limit: %v\n%s", err, progressText(lines))
	}
	if took := time.Since(start); took > 9*time.Second {
		t.Errorf("the step over its disk limit ran on for %v", took)
	}

	noBuildLeft(t, s, "too-big")
}
