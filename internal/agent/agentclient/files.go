package agentclient

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

func pathQuery(path string) url.Values {
	return url.Values{"path": {path}}
}

// ReadFile opens the regular file at path (absolute, inside the sandbox)
// for streaming. size is its length, or -1 when the agent did not know it
// in advance. The caller must close the reader.
func (c *Client) ReadFile(ctx context.Context, path string) (io.ReadCloser, int64, error) {
	resp, err := c.do(ctx, http.MethodGet, "/files", pathQuery(path), nil, "")
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// WriteFile streams r to path, replacing it atomically. mode 0 means 0644;
// mkdirs creates missing parent directories.
func (c *Client) WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode, mkdirs bool) (agentapi.FileInfo, error) {
	q := pathQuery(path)
	if mode != 0 {
		q.Set("mode", fmt.Sprintf("%04o", agentapi.UnixMode(mode)))
	}
	if mkdirs {
		q.Set("mkdirs", "true")
	}
	var fi agentapi.FileInfo
	err := c.call(ctx, http.MethodPut, "/files", q, r, "application/octet-stream", &fi)
	return fi, err
}

// Stat describes path without following a final symlink.
func (c *Client) Stat(ctx context.Context, path string) (agentapi.FileInfo, error) {
	var fi agentapi.FileInfo
	err := c.getJSON(ctx, "/files/stat", pathQuery(path), &fi)
	return fi, err
}

// List describes the entries of directory path, sorted by name.
func (c *Client) List(ctx context.Context, path string) ([]agentapi.FileInfo, error) {
	var out []agentapi.FileInfo
	err := c.getJSON(ctx, "/files/list", pathQuery(path), &out)
	return out, err
}

// Mkdir creates directory path (mode 0755), and with parents its missing
// parents too (then an existing directory is not an error).
func (c *Client) Mkdir(ctx context.Context, path string, parents bool) (agentapi.FileInfo, error) {
	q := pathQuery(path)
	q.Set("parents", strconv.FormatBool(parents))
	var fi agentapi.FileInfo
	err := c.sendJSON(ctx, http.MethodPost, "/files/mkdir", q, nil, &fi)
	return fi, err
}

// Remove removes path; a non-empty directory needs recursive.
func (c *Client) Remove(ctx context.Context, path string, recursive bool) error {
	q := pathQuery(path)
	q.Set("recursive", strconv.FormatBool(recursive))
	return c.sendJSON(ctx, http.MethodDelete, "/files", q, nil, nil)
}

// ReadArchive streams a tar of path (a file or a directory tree); entry
// names start with path's base name. The caller must close the reader; a
// read error means the archive is incomplete.
func (c *Client) ReadArchive(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.readArchive(ctx, path, false)
}

// ReadChangedArchive is ReadArchive, but each regular file the sandbox has
// not changed (one of its template's, untouched) comes without its bytes,
// marked with agentapi.PAXUnchanged, for a sync extraction to keep.
func (c *Client) ReadChangedArchive(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.readArchive(ctx, path, true)
}

func (c *Client) readArchive(ctx context.Context, path string, changedOnly bool) (io.ReadCloser, error) {
	q := pathQuery(path)
	if changedOnly {
		q.Set("changed_only", "true")
	}
	resp, err := c.do(ctx, http.MethodGet, "/files/archive", q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WriteArchive extracts the tar stream r into directory dir, creating it if
// needed.
func (c *Client) WriteArchive(ctx context.Context, dir string, r io.Reader) error {
	return c.ExtractArchive(ctx, dir, r, ExtractOptions{})
}

// ExtractOptions are the rules a template build extracts with, as Docker's
// COPY does; the zero value extracts as WriteArchive does.
type ExtractOptions struct {
	Owner       string // USER[:GROUP] owning every entry, resolved in the sandbox
	KeepOwners  bool   // entries keep the owners the archive records
	FollowLinks bool   // follow symlinks to directories on an entry's way
	// Sync makes the destination match the archive: entries already the
	// same are not written, and what the archive's top-level directories
	// do not hold is removed (a sandbox saved as a template).
	Sync bool
}

// ExtractArchive extracts the tar stream r into directory dir with o.
func (c *Client) ExtractArchive(ctx context.Context, dir string, r io.Reader, o ExtractOptions) error {
	q := pathQuery(dir)
	if o.Owner != "" {
		q.Set("owner", o.Owner)
	}
	if o.KeepOwners {
		q.Set("keep_owners", "true")
	}
	if o.FollowLinks {
		q.Set("follow_links", "true")
	}
	if o.Sync {
		q.Set("sync", "true")
	}
	return c.call(ctx, http.MethodPut, "/files/archive", q, r, "application/x-tar", nil)
}
