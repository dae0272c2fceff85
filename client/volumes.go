package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Volume is a team's named persistent disk: it outlives the sandboxes
// that mount it (CreateRequest.Volumes), several at once.
type Volume struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Team      string `json:"team"`
	SizeMB    int    `json:"size_mb"`    // as asked for
	SizeBytes int64  `json:"size_bytes"` // what its filesystem holds
	UsedBytes int64  `json:"used_bytes"` // what its files take
	// UsedBy are the IDs of the sandboxes, not destroyed, that mount it.
	UsedBy    []string  `json:"used_by"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateVolumeRequest asks for a new, empty volume.
type CreateVolumeRequest struct {
	Name   string `json:"name"`
	SizeMB int    `json:"size_mb,omitempty"` // default 1024; at least 16, at most 1048576 (1 TB)
}

// VolumeMount mounts a volume into a new sandbox at Path (absolute, not
// /, not under /proc, /sys or /dev), read-only if ReadOnly.
type VolumeMount struct {
	Volume   string `json:"volume"` // its name or ID
	Path     string `json:"path"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// ParseVolumeMount reads a mount as the CLI takes it: NAME:/PATH, or
// NAME:/PATH:ro for read-only (NAME:/PATH:rw is the default).
func ParseVolumeMount(s string) (VolumeMount, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") ||
		len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" {
		return VolumeMount{}, fmt.Errorf("volume mount %q: want NAME:/PATH or NAME:/PATH:ro", s)
	}
	return VolumeMount{Volume: parts[0], Path: parts[1], ReadOnly: len(parts) == 3 && parts[2] == "ro"}, nil
}

// ParseSizeMB reads a volume's size, such as 512M, 10G or 1T (powers of
// 1024), or a bare number of MB, as MB.
func ParseSizeMB(s string) (int, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("size %q: want a positive size such as 512M or 10G", s)
		}
		return n, nil
	}
	b, err := ParseSize(t)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a size such as 512M, 10G or 1T (a bare number is MB)", s)
	}
	if b < 1<<20 || b>>20 > 1<<30 {
		return 0, fmt.Errorf("size %q: want between 1M and 1024T, such as 512M or 10G", s)
	}
	return int(b >> 20), nil
}

func volumePath(ref string, rest ...string) string {
	p := "/v1/volumes/" + url.PathEscape(ref)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateVolume makes a new, empty volume.
func (c *Client) CreateVolume(ctx context.Context, req CreateVolumeRequest) (*Volume, error) {
	var v Volume
	err := c.call(ctx, http.MethodPost, "/v1/volumes", nil, req, &v)
	return &v, err
}

// Volumes lists the team's volumes by name.
func (c *Client) Volumes(ctx context.Context) ([]Volume, error) {
	return getList[Volume](ctx, c, "/v1/volumes", nil, "volumes")
}

// Volume returns a volume by name or ID, with its use.
func (c *Client) Volume(ctx context.Context, ref string) (*Volume, error) {
	var v Volume
	err := c.call(ctx, http.MethodGet, volumePath(ref), nil, nil, &v)
	return &v, err
}

// RemoveVolume removes a volume and its data. A volume that a sandbox
// not destroyed mounts is kept: the error (ErrConflict) names them.
func (c *Client) RemoveVolume(ctx context.Context, ref string) error {
	return c.call(ctx, http.MethodDelete, volumePath(ref), nil, nil, nil)
}
