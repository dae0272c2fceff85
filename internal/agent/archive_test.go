package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestArchiveRoundTrip(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "proj")
	os.MkdirAll(filepath.Join(src, "sub", "deep"), 0o750)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "deep", "big"), bytes.Repeat([]byte("x"), 1<<20), 0o600)
	os.Symlink("../a.txt", filepath.Join(src, "sub", "link"))
	os.Symlink("/etc/passwd", filepath.Join(src, "abs-link"))

	rc, err := c.ReadArchive(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()

	// Entry names are rooted at the base name.
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	var names []string
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
	sort.Strings(names)
	want := []string{"proj/", "proj/a.txt", "proj/abs-link", "proj/sub/", "proj/sub/deep/", "proj/sub/deep/big", "proj/sub/link", "proj/sub/run.sh"}
	if !equal(names, want) {
		t.Errorf("entries = %q\nwant      %q", names, want)
	}

	dst := filepath.Join(t.TempDir(), "out")
	if err := c.WriteArchive(ctx, dst, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	check := func(rel string, mode os.FileMode, content string) {
		t.Helper()
		p := filepath.Join(dst, "proj", rel)
		st, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", rel, st.Mode(), mode)
		}
		if content != "" {
			if b, _ := os.ReadFile(p); string(b) != content {
				t.Errorf("%s: content %q", rel, b)
			}
		}
	}
	check("a.txt", 0o644, "alpha")
	check("sub", os.ModeDir|0o750, "")
	check("sub/run.sh", 0o755, "#!/bin/sh\n")
	check("sub/deep/big", 0o600, "")
	if st, _ := os.Stat(filepath.Join(dst, "proj/sub/deep/big")); st == nil || st.Size() != 1<<20 {
		t.Errorf("big file: %v", st)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "proj/sub/link")); l != "../a.txt" {
		t.Errorf("link = %q", l)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "proj/abs-link")); l != "/etc/passwd" {
		t.Errorf("abs-link = %q", l)
	}

	// A single file archives as one entry.
	rc, err = c.ReadArchive(ctx, filepath.Join(src, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tr = tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "a.txt" || hdr.Size != 5 {
		t.Errorf("single file: %+v %v", hdr, err)
	}
	rc.Close()

	if _, err := c.ReadArchive(ctx, filepath.Join(src, "none")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type entry struct {
	name, link string
	typ        byte
	body       string
}

func makeTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArchiveRejectsEscapes(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	base := t.TempDir()
	dst := filepath.Join(base, "dst")
	for _, name := range []string{"../evil", "a/../../evil", "/abs-evil"} {
		err := c.WriteArchive(ctx, dst, bytes.NewReader(makeTar(t, entry{name: name, typ: tar.TypeReg, body: "pwned"})))
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want invalid argument", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "evil")); !os.IsNotExist(err) {
		t.Errorf("file written outside the destination: %v", err)
	}
	if _, err := os.Stat("/abs-evil"); !os.IsNotExist(err) {
		t.Errorf("absolute entry written: %v", err)
	}
	err := c.WriteArchive(ctx, dst, bytes.NewReader(makeTar(t, entry{name: "x", typ: tar.TypeLink, link: "../../etc/passwd"})))
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("hard link out: %v", err)
	}
	// "./" names, as `tar -C dir .` writes them, are fine.
	dotted := makeTar(t, entry{name: "./", typ: tar.TypeDir}, entry{name: "./ok/file", typ: tar.TypeReg, body: "fine"},
		entry{name: "./dev", typ: tar.TypeChar})
	if err := c.WriteArchive(ctx, dst, bytes.NewReader(dotted)); err != nil {
		t.Errorf("./ entries: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "ok", "file")); string(b) != "fine" {
		t.Errorf("./ok/file = %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dst, "dev")); !os.IsNotExist(err) {
		t.Errorf("device entry extracted: %v", err)
	}
	if err := c.WriteArchive(ctx, dst, bytes.NewReader([]byte("this is not a tar archive, not at all........"))); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("garbage: %v", err)
	}
}

// TestArchivePlantedSymlink: an archive that plants a symlink and then
// writes through it, and an existing symlink in the destination, must not
// lead to writes outside the destination.
func TestArchivePlantedSymlink(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "victim"), []byte("original"), 0o644)
	dst := filepath.Join(base, "dst")
	os.MkdirAll(dst, 0o755)
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dst, "existing-file-link"))
	os.Symlink(outside, filepath.Join(dst, "existing-dir-link"))

	tarball := makeTar(t,
		entry{name: "planted", typ: tar.TypeSymlink, link: outside},
		entry{name: "planted/pwned", typ: tar.TypeReg, body: "pwned"},
		entry{name: "relplanted", typ: tar.TypeSymlink, link: "../outside"},
		entry{name: "relplanted/pwned2", typ: tar.TypeReg, body: "pwned"},
		entry{name: "existing-file-link", typ: tar.TypeReg, body: "pwned"},
		entry{name: "existing-dir-link/pwned3", typ: tar.TypeReg, body: "pwned"},
		entry{name: "newlink", typ: tar.TypeSymlink, link: filepath.Join(outside, "victim")},
		entry{name: "newlink", typ: tar.TypeReg, body: "replaced"},
	)
	if err := c.WriteArchive(ctx, dst, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("outside dir now holds %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "victim")); string(b) != "original" {
		t.Errorf("victim written through a symlink: %q", b)
	}
	for _, rel := range []string{"planted/pwned", "relplanted/pwned2", "existing-dir-link/pwned3"} {
		p := filepath.Join(dst, rel)
		if st, err := os.Lstat(filepath.Dir(p)); err != nil || !st.IsDir() {
			t.Errorf("%s: parent is not a real directory: %v %v", rel, st, err)
		}
		if b, _ := os.ReadFile(p); string(b) != "pwned" {
			t.Errorf("%s not extracted inside the destination", rel)
		}
	}
	for _, rel := range []string{"existing-file-link", "newlink"} {
		if st, err := os.Lstat(filepath.Join(dst, rel)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s: symlink not replaced by a file: %v %v", rel, st, err)
		}
	}
}

// TestExtractForBuilds: a template build's COPY gives entries an owner,
// keeps the owners of an image's files, and follows a symlinked directory
// such as /bin -> usr/bin instead of replacing it.
func TestExtractForBuilds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dst := t.TempDir()
	os.MkdirAll(filepath.Join(dst, "usr", "bin"), 0o755)
	os.Symlink("usr/bin", filepath.Join(dst, "bin"))
	tarball := makeTar(t, entry{name: "bin/app", typ: tar.TypeReg, body: "app"}, entry{name: "etc/", typ: tar.TypeDir})

	err := c.ExtractArchive(ctx, dst, bytes.NewReader(tarball), agentclient.ExtractOptions{Owner: "1234:2345", FollowLinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "bin")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("bin is no longer a symlink: %v, %v", fi, err)
	}
	for _, p := range []string{"usr/bin/app", "etc"} {
		if uid, gid := owner(t, filepath.Join(dst, p)); uid != 1234 || gid != 2345 {
			t.Errorf("%s is owned by %d:%d, want 1234:2345", p, uid, gid)
		}
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "kept", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 33, Gid: 44})
	tw.Close()
	if err := c.ExtractArchive(ctx, dst, &buf, agentclient.ExtractOptions{KeepOwners: true}); err != nil {
		t.Fatal(err)
	}
	if uid, gid := owner(t, filepath.Join(dst, "kept")); uid != 33 || gid != 44 {
		t.Errorf("kept is owned by %d:%d, want the archive's 33:44", uid, gid)
	}
	if fi, _ := os.Stat(filepath.Join(dst, "kept")); fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("the setuid bit went with the change of owner: %v", fi.Mode())
	}

	// Without follow_links the link is replaced, as the files API does.
	if err := c.WriteArchive(ctx, dst, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "bin")); err != nil || !fi.IsDir() {
		t.Errorf("without follow_links, bin: %v, %v; want a real directory", fi, err)
	}
	if err := c.ExtractArchive(ctx, dst, bytes.NewReader(tarball), agentclient.ExtractOptions{Owner: "nobody-at-all"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("an unknown owner: %v", err)
	}
}

func owner(t *testing.T, p string) (uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestExtractSync: a sync leaves what is the same untouched (same inode,
// same mtime), rewrites what differs, adds what is new, and removes what
// the archive's top-level directories no longer hold.
func TestExtractSync(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("keeping owners needs root")
	}
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	dst := t.TempDir()
	for name, body := range map[string]string{"etc/same": "same", "etc/changed": "old!", "etc/gone": "x", "etc/sub/deep": "y", "other/kept": "z"} {
		os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dst, name), []byte(body), 0o644)
	}
	os.Chmod(filepath.Join(dst, "etc"), 0o755)
	before, _ := os.Stat(filepath.Join(dst, "etc/same"))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct{ name, body string }{{"etc/", ""}, {"etc/same", "same"}, {"etc/changed", "new!"}, {"etc/added", "+"}} {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e.name, "/") {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		}
		tw.WriteHeader(hdr)
		io.WriteString(tw, e.body)
	}
	tw.Close()
	if err := c.ExtractArchive(ctx, dst, &buf, agentclient.ExtractOptions{KeepOwners: true, Sync: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dst, "etc/same"))
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("a file that is the same was written again")
	}
	for name, want := range map[string]string{"etc/changed": "new!", "etc/added": "+", "other/kept": "z"} {
		if b, err := os.ReadFile(filepath.Join(dst, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	for _, name := range []string{"etc/gone", "etc/sub"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after a sync without it: %v", name, err)
		}
	}
}
