package sandbox

// Volumes: a team's named persistent disks, outside every sandbox. Each
// is a sparse ext4 image of its size on the host, mounted while the
// server runs (VolumeHost); sandboxes of the team mount it at a path of
// their choice, read-write or read-only, several at once. A volume
// outlives the sandboxes that use it and cannot be removed while a
// sandbox that is not destroyed records it.

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Volume is a team's named persistent disk.
type Volume struct {
	ID        string
	TeamID    string
	Name      string
	SizeMB    int
	CreatedAt time.Time
}

// VolumeMount is a volume mounted into a sandbox, as its record keeps it.
type VolumeMount struct {
	VolumeID string `json:"volume_id"`
	Name     string `json:"name"` // the volume's name
	Path     string `json:"path"` // where it appears inside the sandbox
	ReadOnly bool   `json:"read_only,omitempty"`
}

// VolumeUsage is what a volume holds.
type VolumeUsage struct {
	SizeBytes int64 // what its filesystem can hold
	UsedBytes int64 // what its files take
}

// Volume limits.
const (
	MinVolumeMB      = 16
	MaxVolumeMB      = 1 << 20 // 1 TiB
	MaxVolumeMounts  = 16
	volumeIDPrefix   = "vol-"
	volumeSizeFormat = "a size such as 512M, 10G or 1T (at least 16M, at most 1T)"
)

// NewVolumeID returns "vol-" and 12 random lowercase letters and digits.
func NewVolumeID() string { return volumeIDPrefix + randomString(12) }

// IsVolumeID reports whether s has the shape of a volume ID.
func IsVolumeID(s string) bool {
	return strings.HasPrefix(s, volumeIDPrefix) && len(s) == len(volumeIDPrefix)+12
}

// ValidateVolumeName checks a volume name: as a sandbox's.
func ValidateVolumeName(name string) error {
	if !namePattern.MatchString(name) || IsVolumeID(name) {
		return fmt.Errorf("%w: volume name %q must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit (and not look like a volume ID)", errdefs.ErrInvalidArgument, name)
	}
	return nil
}

// ValidateVolumeSize checks a volume's size in MB.
func ValidateVolumeSize(mb int) error {
	if mb < MinVolumeMB || mb > MaxVolumeMB {
		return fmt.Errorf("%w: volume size %d MB is out of range: give %s", errdefs.ErrInvalidArgument, mb, volumeSizeFormat)
	}
	return nil
}

// forbiddenMountRoots are the paths under which no volume may be mounted:
// the sandbox's kernel interfaces, and the agent's own directory.
var forbiddenMountRoots = []string{"/proc", "/sys", "/dev", "/.runtools"}

// ValidateMountPath checks where a volume is to appear in a sandbox: an
// absolute, clean path that is not / and not under /proc, /sys or /dev.
func ValidateMountPath(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: volume mount path %q %s; give an absolute path such as /mnt/data", errdefs.ErrInvalidArgument, p, why)
	}
	switch {
	case !path.IsAbs(p):
		return bad("is not absolute")
	case slices.Contains(strings.Split(p, "/"), ".."):
		return bad("contains '..'")
	case path.Clean(p) == "/":
		return bad("is the root directory")
	case strings.ContainsAny(p, ":,\x00"):
		return bad("contains ':', ',' or a NUL byte")
	}
	clean := path.Clean(p)
	for _, root := range forbiddenMountRoots {
		if clean == root || strings.HasPrefix(clean, root+"/") {
			return bad("is under " + root)
		}
	}
	return nil
}

// validateMounts checks the mounts a sandbox asks for and cleans their
// paths: each path valid and used once, at most MaxVolumeMounts.
func validateMounts(mounts []VolumeMount) error {
	if len(mounts) > MaxVolumeMounts {
		return fmt.Errorf("%w: at most %d volume mounts, got %d", errdefs.ErrInvalidArgument, MaxVolumeMounts, len(mounts))
	}
	seen := map[string]bool{}
	for i := range mounts {
		mt := &mounts[i]
		if mt.Name == "" && mt.VolumeID == "" {
			return fmt.Errorf("%w: a volume mount needs a volume name: NAME:/PATH[:ro]", errdefs.ErrInvalidArgument)
		}
		if err := ValidateMountPath(mt.Path); err != nil {
			return err
		}
		mt.Path = path.Clean(mt.Path)
		for other := range seen {
			if other == mt.Path || strings.HasPrefix(mt.Path, other+"/") || strings.HasPrefix(other, mt.Path+"/") {
				return fmt.Errorf("%w: volume mount paths %s and %s overlap; give each volume its own directory", errdefs.ErrInvalidArgument, other, mt.Path)
			}
		}
		seen[mt.Path] = true
	}
	return nil
}
