package daemon

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// installAgent copies the running binary into the data directory under a
// name derived from its content, and returns that path. Sandboxes mount
// this copy, so upgrading the binary on the host never changes what a
// running (or later restored) sandbox sees.
func installAgent(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding own binary: %w", err)
	}
	if err := checkStatic(self); err != nil {
		return "", err
	}
	src, err := os.Open(self)
	if err != nil {
		return "", fmt.Errorf("reading own binary: %w", err)
	}
	defer src.Close()
	h := sha256.New()
	if _, err := io.Copy(h, src); err != nil {
		return "", fmt.Errorf("hashing own binary: %w", err)
	}
	dst := filepath.Join(dir, "runtools-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating agent directory: %w", err)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".agent-*")
	if err != nil {
		return "", fmt.Errorf("copying agent: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copying agent: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("installing agent: %w", err)
	}
	return dst, nil
}

// checkStatic refuses a dynamically linked binary: inside a sandbox there
// is no guarantee of a matching C library.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build runtools with CGO_ENABLED=0 (make build) so it can run inside sandboxes", path)
		}
	}
	return nil
}
