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
	// Unchecked: a disk image, whose size alone is recorded (reading all
	// of a sparse 2 GB image would cost more than the save; ext4 checks
	// its own metadata). One that is gone was moved into place as the
	// sandbox's disk.
	Unchecked bool `json:"unchecked,omitempty"`
}

// diskImageName is the file of an image that holds the sandbox's durable
// disk as it was when the image was taken (package disk's ImageName).
const diskImageName = "disk.img"

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
		var sum fileSum
		var err error
		if e.Name() == diskImageName {
			sum, err = sizeOnly(filepath.Join(tmp, e.Name()))
		} else {
			sum, err = checksum(filepath.Join(tmp, e.Name()), true)
		}
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
		if want.Unchecked {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Size() != want.Size {
				return fmt.Errorf("image %s: %s has size %d, want %d", dir, name, fi.Size(), want.Size)
			}
			continue
		}
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

// sizeOnly records a disk image's size; it was synced when copied.
func sizeOnly(path string) (fileSum, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileSum{}, fmt.Errorf("reading image file: %w", err)
	}
	return fileSum{Size: fi.Size(), Unchecked: true}, nil
}

// addDisk adds the disk image that saveDisk wrote into the unsealed copy
// tmp of a sealed image to its manifest.
func addDisk(tmp string) error {
	data, err := os.ReadFile(filepath.Join(tmp, manifestName))
	if err != nil {
		return fmt.Errorf("reading image manifest: %w", err)
	}
	var man manifest
	if err := json.Unmarshal(data, &man); err != nil {
		return fmt.Errorf("image %s: bad manifest: %w", tmp, err)
	}
	sum, err := sizeOnly(filepath.Join(tmp, diskImageName))
	if err != nil {
		return err
	}
	man.Files[diskImageName] = sum
	if data, err = json.Marshal(man); err != nil {
		return err
	}
	// A new file: the manifest is a link to the source image's.
	_ = os.Remove(filepath.Join(tmp, manifestName))
	return atomicfile.WriteFile(filepath.Join(tmp, manifestName), data, 0o600)
}
