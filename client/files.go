package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Files reads and writes files inside one sandbox, or one volume. Paths
// are absolute paths inside the sandbox, or from the volume's top.
type Files struct {
	c    *Client
	base string // the API path of the sandbox or volume
}

// Files returns file operations for the sandbox with this ID or name.
func (c *Client) Files(ref string) *Files { return &Files{c: c, base: sandboxPath(ref)} }

// VolumeFiles returns file operations for the volume with this ID or
// name, without any sandbox: paths start at the volume's top ("/"), and
// none leads out of it. Download and Upload (archives) are for sandboxes
// only.
func (c *Client) VolumeFiles(ref string) *Files { return &Files{c: c, base: volumePath(ref)} }

// path is the API path of a file call: base, then rest.
func (f *Files) path(rest ...string) string {
	p := f.base
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func (f *Files) raw(ctx context.Context, method, sub string, q url.Values, body io.Reader) (*http.Response, error) {
	req, err := f.c.newRequest(ctx, method, f.path(sub), q, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	return f.c.do(req)
}

// Open streams a file's content. The caller closes the reader.
func (f *Files) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := f.raw(ctx, http.MethodGet, "files", url.Values{"path": {path}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Read returns a whole file.
func (f *Files) Read(ctx context.Context, path string) ([]byte, error) {
	rc, err := f.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// WriteOptions tune Write.
type WriteOptions struct {
	Mode   uint32 // default 0644
	MkDirs bool   // create missing parent directories
}

// Write streams r into a file, replacing it atomically.
func (f *Files) Write(ctx context.Context, path string, r io.Reader, opts WriteOptions) (*FileInfo, error) {
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	q := url.Values{"path": {path}, "mode": {"0" + strconv.FormatUint(uint64(mode), 8)}, "mkdirs": {strconv.FormatBool(opts.MkDirs)}}
	resp, err := f.raw(ctx, http.MethodPut, "files", q, r)
	if err != nil {
		return nil, err
	}
	return decodeInto[FileInfo](resp)
}

// Stat describes one path without following a final symlink.
func (f *Files) Stat(ctx context.Context, path string) (*FileInfo, error) {
	var fi FileInfo
	err := f.c.call(ctx, http.MethodGet, f.path("files", "stat"), url.Values{"path": {path}}, nil, &fi)
	return &fi, err
}

// List returns a directory's entries sorted by name.
func (f *Files) List(ctx context.Context, path string) ([]FileInfo, error) {
	return getList[FileInfo](ctx, f.c, f.path("files", "list"), url.Values{"path": {path}}, "entries")
}

// Mkdir creates a directory; with parents, missing parents too.
func (f *Files) Mkdir(ctx context.Context, path string, parents bool) error {
	q := url.Values{"path": {path}, "parents": {strconv.FormatBool(parents)}}
	return f.c.call(ctx, http.MethodPost, f.path("files", "mkdir"), q, nil, nil)
}

// Remove deletes a file or, with recursive, a directory tree.
func (f *Files) Remove(ctx context.Context, path string, recursive bool) error {
	q := url.Values{"path": {path}, "recursive": {strconv.FormatBool(recursive)}}
	return f.c.call(ctx, http.MethodDelete, f.path("files"), q, nil, nil)
}

// Download streams a tar archive of a file or directory tree. Entry names
// are relative to the parent of path, so they all start with path's base
// name, as in docker's archive API: the archive of /root/app holds "app/",
// "app/main.go", ...; the archive of /etc/hosts holds "hosts". Uploading
// such an archive into a directory therefore recreates the tree inside it.
func (f *Files) Download(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := f.raw(ctx, http.MethodGet, "files/archive", url.Values{"path": {path}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Upload extracts a tar archive into directory dir, creating it if needed.
// Entry names are relative to dir and may not escape it.
func (f *Files) Upload(ctx context.Context, dir string, tarStream io.Reader) error {
	resp, err := f.raw(ctx, http.MethodPut, "files/archive", url.Values{"path": {dir}}, tarStream)
	if err != nil {
		return err
	}
	closeBody(resp)
	return nil
}
