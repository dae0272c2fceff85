package cli

import (
	"archive/tar"
	"errors"
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/runtools/runtools/client"
)

// The fake server's routes for sandbox files.

// fs returns the sandbox's files and the cleaned path query.
func (f *fake) fs(r *http.Request) (map[string]*fnode, string, error) {
	sb, err := f.sandbox(r)
	if err != nil {
		return nil, "", err
	}
	p := r.URL.Query().Get("path")
	if !path.IsAbs(p) {
		return nil, "", invalid("path must be absolute, got %q", p)
	}
	return f.files[sb.ID], path.Clean(p), nil
}

func info(p string, n *fnode) client.FileInfo {
	return client.FileInfo{Name: path.Base(p), Path: p, Type: n.typ, Size: int64(len(n.data)), Mode: n.mode, ModTime: n.mtime, LinkTarget: n.target}
}

func (f *fake) readFile(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	n := files[p]
	if n != nil && n.typ == "symlink" {
		n = files[path.Join(path.Dir(p), n.target)]
	}
	if n == nil {
		return notFound("no such file: %s", p)
	}
	if n.typ != "file" {
		return invalid("%s is a directory", p)
	}
	_, err = w.Write(n.data)
	return err
}

func (f *fake) writeFile(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if parent := files[path.Dir(p)]; parent == nil || parent.typ != "dir" {
		return notFound("no such directory: %s", path.Dir(p))
	}
	if n := files[p]; n != nil && n.typ == "dir" {
		return invalid("%s is a directory", p)
	}
	mode, err := strconv.ParseUint(r.URL.Query().Get("mode"), 8, 32)
	if err != nil {
		return invalid("bad mode: %v", err)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	files[p] = &fnode{typ: "file", data: data, mode: uint32(mode), mtime: testNow}
	return reply(w, info(p, files[p]))
}

func (f *fake) stat(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	n := files[p]
	if n == nil {
		return notFound("no such file or directory: %s", p)
	}
	return reply(w, info(p, n))
}

// children returns the paths directly inside dir, sorted.
func children(files map[string]*fnode, dir string) []string {
	var out []string
	for p := range files {
		if p != "/" && path.Dir(p) == dir {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fake) list(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if n := files[p]; n == nil || n.typ != "dir" {
		return notFound("no such directory: %s", p)
	}
	entries := []client.FileInfo{}
	for _, c := range children(files, p) {
		entries = append(entries, info(c, files[c]))
	}
	return reply(w, map[string]any{"entries": entries})
}

// download writes a tar of path whose entries start with its base name.
func (f *fake) download(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if files[p] == nil {
		return notFound("no such file or directory: %s", p)
	}
	tw := tar.NewWriter(w)
	var walk func(p, name string) error
	walk = func(p, name string) error {
		n := files[p]
		hdr := &tar.Header{Name: name, Mode: int64(n.mode), ModTime: n.mtime}
		switch n.typ {
		case "dir":
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case "symlink":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, n.target
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(n.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(n.data); err != nil {
			return err
		}
		for _, c := range children(files, p) {
			if err := walk(c, name+"/"+path.Base(c)); err != nil {
				return err
			}
		}
		return nil
	}
	root := path.Base(p)
	if f.flatArchives {
		root = "."
	}
	if err := walk(p, root); err != nil {
		return err
	}
	return tw.Close()
}

// upload extracts a tar into the directory path, creating it.
func (f *fake) upload(w http.ResponseWriter, r *http.Request) error {
	files, dir, err := f.fs(r)
	if err != nil {
		return err
	}
	mkdirAll := func(p string) {
		for q := p; q != "/" && files[q] == nil; q = path.Dir(q) {
			files[q] = &fnode{typ: "dir", mode: 0o755, mtime: testNow}
		}
	}
	mkdirAll(dir)
	tr := tar.NewReader(r.Body)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalid("bad archive: %v", err)
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return invalid("entry %q escapes %s", hdr.Name, dir)
		}
		p := path.Join(dir, name)
		mkdirAll(path.Dir(p))
		switch hdr.Typeflag {
		case tar.TypeDir:
			files[p] = &fnode{typ: "dir", mode: uint32(hdr.Mode) & 0o777, mtime: hdr.ModTime}
		case tar.TypeSymlink:
			files[p] = &fnode{typ: "symlink", target: hdr.Linkname, mode: 0o777, mtime: hdr.ModTime}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			files[p] = &fnode{typ: "file", data: data, mode: uint32(hdr.Mode) & 0o777, mtime: hdr.ModTime}
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
