package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/runtools/runtools/internal/atomicfile"
)

// manifestName is the file in a sealed image that lists its files with
// their sizes and CRC-32C checksums. An image without it is not sealed.
const manifestName = "runtools-manifest.json"

type manifest struct {
	Files map[string]fileSum `json:"files"`
}

type fileSum struct {
	Size   int64  `json:"size"`
	CRC32C uint32 `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sealImage makes the image runsc wrote into tmp durable and moves it to
// final: every file is checksummed and fsynced, the manifest is written and
// fsynced, and only then is the directory renamed into place. A crash at
// any point leaves either no final image or a whole one. It returns the
// image's size.
func sealImage(tmp, final string) (int64, error) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return 0, fmt.Errorf("reading image: %w", err)
	}
	man := manifest{Files: map[string]fileSum{}}
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), manifestName) {
			// A manifest, or its temporary file, from a seal that a crash
			// interrupted: it is no part of the image and is written anew.
			if err := os.Remove(filepath.Join(tmp, e.Name())); err != nil {
				return 0, fmt.Errorf("removing a stale manifest: %w", err)
			}
			continue
		}
		sum, err := checksum(filepath.Join(tmp, e.Name()), true)
		if err != nil {
			return 0, err
		}
		man.Files[e.Name()] = sum
		total += sum.Size
	}
	data, err := json.Marshal(man)
	if err != nil {
		return 0, err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, manifestName), data, 0o600); err != nil {
		return 0, fmt.Errorf("writing image manifest: %w", err)
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return 0, fmt.Errorf("moving image into place: %w", err)
	}
	return total, atomicfile.SyncDir(filepath.Dir(final))
}

// verifyImage checks a sealed image against its manifest.
func verifyImage(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return fmt.Errorf("image %s is not sealed: %w", dir, err)
	}
	var man manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return fmt.Errorf("image %s: bad manifest: %w", dir, err)
	}
	if len(man.Files) == 0 {
		return fmt.Errorf("image %s: empty manifest", dir)
	}
	for name, want := range man.Files {
		got, err := checksum(filepath.Join(dir, name), false)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("image %s: %s does not match its checksum (size %d, want %d)", dir, name, got.Size, want.Size)
		}
	}
	return nil
}

// sealed reports whether dir holds a sealed image.
func sealed(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, manifestName))
	return err == nil
}

func checksum(path string, sync bool) (fileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileSum{}, fmt.Errorf("reading image file: %w", err)
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err != nil {
		return fileSum{}, fmt.Errorf("reading image file %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fileSum{}, fmt.Errorf("syncing image file %s: %w", path, err)
		}
	}
	return fileSum{Size: n, CRC32C: h.Sum32()}, nil
}
