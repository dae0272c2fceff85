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

// ParseSize reads a size such as 512M, 10G or 1T (or a number of MB) as
// MB. The units are powers of 1024.
func ParseSize(s string) (int, error) {
	units := map[string]int{"": 1, "M": 1, "MB": 1, "MI": 1, "MIB": 1, "G": 1 << 10, "GB": 1 << 10, "GI": 1 << 10, "GIB": 1 << 10, "T": 1 << 20, "TB": 1 << 20, "TI": 1 << 20, "TIB": 1 << 20}
	t := strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(t)
	}
	n, err := strconv.Atoi(t[:i])
	mul, ok := units[t[i:]]
	if err != nil || !ok || n <= 0 || n > (1<<30)/mul {
		return 0, fmt.Errorf("size %q: want a number with M, G or T, such as 512M or 10G", s)
	}
	return n * mul, nil
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
