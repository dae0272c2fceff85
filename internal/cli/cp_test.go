package cli

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCpArgs(t *testing.T) {
	tests := []struct {
		src, dst     string
		from, to     cpSide
		wantErrMatch string
	}{
		{src: "./a.txt", dst: "my-env:/root/", from: cpSide{Path: "./a.txt"}, to: cpSide{Sandbox: "my-env", Path: "/root/"}},
		{src: "my-env:/root/app", dst: "app", from: cpSide{Sandbox: "my-env", Path: "/root/app"}, to: cpSide{Path: "app"}},
		{src: "sandbox-1a2b:/x", dst: "/tmp/x", from: cpSide{Sandbox: "sandbox-1a2b", Path: "/x"}, to: cpSide{Path: "/tmp/x"}},
		{src: "-", dst: "my-env:/root", from: cpSide{Path: "-"}, to: cpSide{Sandbox: "my-env", Path: "/root"}},
		{src: "my-env:/root", dst: "-", from: cpSide{Sandbox: "my-env", Path: "/root"}, to: cpSide{Path: "-"}},
		// Local paths that hold a colon.
		{src: "/tmp/a:b", dst: "e:/x", from: cpSide{Path: "/tmp/a:b"}, to: cpSide{Sandbox: "e", Path: "/x"}},
		{src: "./a:b", dst: "e:/x", from: cpSide{Path: "./a:b"}, to: cpSide{Sandbox: "e", Path: "/x"}},
		{src: "dir/a:b", dst: "e:/x", from: cpSide{Path: "dir/a:b"}, to: cpSide{Sandbox: "e", Path: "/x"}},
		// Errors.
		{src: "a.txt", dst: "b.txt", wantErrMatch: "one of SRC and DST must be in a sandbox"},
		{src: "a:/x", dst: "b:/y", wantErrMatch: "cannot copy from one sandbox to another"},
		{src: ":/x", dst: "y", wantErrMatch: "needs a sandbox name before the colon"},
		{src: "e:", dst: "y", wantErrMatch: "needs a path after the colon"},
		{src: "e:root/x", dst: "y", wantErrMatch: "write e:/root/root/x"},
		{src: "", dst: "e:/x", wantErrMatch: "empty path"},
	}
	for _, tt := range tests {
		from, to, err := parseCpArgs(tt.src, tt.dst)
		if tt.wantErrMatch != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrMatch) {
				t.Errorf("parseCpArgs(%q, %q) error = %v, want one with %q", tt.src, tt.dst, err, tt.wantErrMatch)
			}
			continue
		}
		if err != nil || from != tt.from || to != tt.to {
			t.Errorf("parseCpArgs(%q, %q) = %+v, %+v, %v; want %+v, %+v", tt.src, tt.dst, from, to, err, tt.from, tt.to)
		}
	}
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCpFileUpload(t *testing.T) {
	h := newHarness(t)
	src := filepath.Join(t.TempDir(), "run.sh")
	writeFile(t, src, "#!/bin/sh\n", 0o750)
	files := h.fake.files["sandbox-aaaa1111"]

	// Into an existing directory: lands inside it, keeping its mode.
	if r := h.run("sandbox", "cp", src, "my-env:/tmp"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if n := files["/tmp/run.sh"]; n == nil || string(n.data) != "#!/bin/sh\n" || n.mode != 0o750 {
		t.Fatalf("/tmp/run.sh = %+v", n)
	}
	// To a new name.
	if r := h.run("sandbox", "cp", src, "my-env:/tmp/renamed"); r.code != 0 || files["/tmp/renamed"] == nil {
		t.Fatalf("%+v", r)
	}
	// A trailing slash needs an existing directory.
	r := h.run("sandbox", "cp", src, "my-env:/nodir/")
	if r.code != 1 || !strings.Contains(r.stderr, "sandbox directory /nodir/ does not exist") {
		t.Fatalf("%+v", r)
	}
	// A missing local file.
	r = h.run("sandbox", "cp", filepath.Join(t.TempDir(), "nope"), "my-env:/tmp")
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("%+v", r)
	}
}

func TestCpFileDownload(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	if r := h.run("sandbox", "cp", "my-env:/root/bin/run.sh", dir); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	p := filepath.Join(dir, "run.sh")
	if got := readFile(t, p); got != "#!/bin/sh\necho run\n" {
		t.Errorf("content = %q", got)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", fi.Mode().Perm())
	}
	// Overwriting a symlink replaces the link, not its target.
	outside := filepath.Join(t.TempDir(), "outside.txt")
	writeFile(t, outside, "keep me", 0o644)
	link := filepath.Join(dir, "hello")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	// (os.Stat follows the link to a file, so dst is that file's name.)
	if r := h.run("sandbox", "cp", "my-env:/root/hello.txt", link); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if readFile(t, outside) != "keep me" {
		t.Error("wrote through the symlink")
	}
	if readFile(t, link) != "hello\n" {
		t.Error("link not replaced by the file")
	}
}

func TestCpDirRoundTrip(t *testing.T) {
	h := newHarness(t)
	src := filepath.Join(t.TempDir(), "app")
	writeFile(t, filepath.Join(src, "main.go"), "package main\n", 0o644)
	writeFile(t, filepath.Join(src, "sub", "run.sh"), "#!/bin/sh\n", 0o755)
	if err := os.Symlink("main.go", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	h.tty = true
	r := h.run("sandbox", "cp", src, "my-env:/root")
	if r.code != 0 || r.stderr != "copied 2 files, 23 B in 0s\n" {
		t.Fatalf("upload: %+v", r)
	}
	files := h.fake.files["sandbox-aaaa1111"]
	for _, p := range []string{"/root/app", "/root/app/main.go", "/root/app/sub/run.sh", "/root/app/link"} {
		if files[p] == nil {
			t.Errorf("%s missing in the sandbox", p)
		}
	}
	if n := files["/root/app/link"]; n == nil || n.typ != "symlink" || n.target != "main.go" {
		t.Errorf("link = %+v", n)
	}

	// Back: into an existing directory, then to a new name, then content only.
	dst := t.TempDir()
	if r := h.run("sandbox", "cp", "my-env:/root/app", dst); r.code != 0 {
		t.Fatalf("download: %+v", r)
	}
	checkTree(t, filepath.Join(dst, "app"))
	if r := h.run("sandbox", "cp", "my-env:/root/app", filepath.Join(dst, "copy")); r.code != 0 {
		t.Fatalf("download to new name: %+v", r)
	}
	checkTree(t, filepath.Join(dst, "copy"))
	content := filepath.Join(dst, "content")
	if err := os.Mkdir(content, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := h.run("sandbox", "cp", "my-env:/root/app/.", content); r.code != 0 {
		t.Fatalf("download content: %+v", r)
	}
	checkTree(t, content)

	// The content only, into an existing directory.
	if r := h.run("sandbox", "cp", src+"/.", "my-env:/tmp"); r.code != 0 || files["/tmp/sub/run.sh"] == nil || files["/tmp/app"] != nil {
		t.Fatalf("upload content: %+v", r)
	}
	// Upload to a new remote name: the directory is created with that name.
	if r := h.run("sandbox", "cp", src, "my-env:/srv/web"); r.code != 0 || files["/srv/web/sub/run.sh"] == nil {
		t.Fatalf("upload to new name: %+v", r)
	}
}

func checkTree(t *testing.T, dir string) {
	t.Helper()
	if got := readFile(t, filepath.Join(dir, "main.go")); got != "package main\n" {
		t.Errorf("%s/main.go = %q", dir, got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub", "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s/sub/run.sh: %v %v", dir, fi, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "main.go" {
		t.Errorf("%s/link -> %q, %v", dir, target, err)
	}
}

func TestCpTarStreams(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "cp", "my-env:/root/bin", "-")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var names []string
	tr := tar.NewReader(strings.NewReader(r.stdout))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	if got := strings.Join(names, " "); got != "bin/ bin/data.bin bin/run.sh" {
		t.Errorf("archive holds %s", got)
	}

	h.stdin = r.stdout
	if r := h.run("sandbox", "cp", "-", "my-env:/opt"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if n := h.fake.files["sandbox-aaaa1111"]["/opt/bin/run.sh"]; n == nil || n.mode != 0o755 {
		t.Errorf("/opt/bin/run.sh = %+v", n)
	}
}

// tarOf builds an archive from entries.
func tarOf(t *testing.T, entries ...*tar.Header) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		body := ""
		if e.Typeflag == tar.TypeReg {
			body = "data"
			e.Size = int64(len(body))
		}
		if e.Mode == 0 {
			e.Mode = 0o644
		}
		if err := tw.WriteHeader(e); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func reg(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg} }

func symlink(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
}

func TestExtractRefusesEscapes(t *testing.T) {
	tests := []struct {
		name    string
		entries []*tar.Header
		want    string
	}{
		{"dot-dot", []*tar.Header{reg("../evil")}, "would land outside"},
		{"nested dot-dot", []*tar.Header{reg("a/../../evil")}, "would land outside"},
		{"absolute", []*tar.Header{reg("/evil")}, "would land outside"},
		{"through a symlink it made", []*tar.Header{symlink("a", "{outside}"), reg("a/evil")}, "through the symlink"},
		{"dir through a symlink", []*tar.Header{symlink("a", "{outside}"), {Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}}, "it is a symlink"},
		{"hard link outside", []*tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "../x"}}, "would land outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir, outside := filepath.Join(base, "dst"), filepath.Join(base, "outside")
			for _, d := range []string{dir, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, e := range tt.entries {
				e.Linkname = strings.ReplaceAll(e.Linkname, "{outside}", outside)
			}
			err := extractTar(tarOf(t, tt.entries...), dir, nil, &copyStats{}, func(string) {})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("extract error = %v, want one with %q", err, tt.want)
			}
			for _, p := range []string{filepath.Join(base, "evil"), filepath.Join(outside, "evil")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func TestExtractNeverWritesThroughExistingSymlinks(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "dst"), filepath.Join(base, "outside")
	writeFile(t, filepath.Join(outside, "target.txt"), "keep me", 0o644)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// dst/linkdir -> outside, dst/linkfile -> outside/target.txt
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target.txt"), filepath.Join(dir, "linkfile")); err != nil {
		t.Fatal(err)
	}

	err := extractTar(tarOf(t, reg("linkdir/target.txt")), dir, nil, &copyStats{}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), "through the symlink") {
		t.Fatalf("write under an existing symlinked dir: %v", err)
	}
	// A file entry where a symlink is replaces the link itself.
	if err := extractTar(tarOf(t, reg("linkfile")), dir, nil, &copyStats{}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(outside, "target.txt")); got != "keep me" {
		t.Errorf("outside file overwritten: %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "linkfile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("linkfile is not a regular file now: %v %v", fi, err)
	}
}

func TestDownloadRejectsUnexpectedLayout(t *testing.T) {
	// A server whose archive entries do not start with the source's base
	// name fails loudly instead of scattering files in the destination.
	h := newHarness(t)
	h.fake.flatArchives = true
	dst := t.TempDir()
	r := h.run("sandbox", "cp", "my-env:/root/bin", dst)
	if r.code != 1 || !strings.Contains(r.stderr, "entries should start with bin/") {
		t.Fatalf("%+v", r)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("extracted %v", entries)
	}
}
