package integration

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runtools/runtools/client"
)

// probeSource is the one program of the test image: there is no shell in
// it, so everything is checked through it.
const probeSource = `package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "stat" {
		var st syscall.Stat_t
		if err := syscall.Lstat(os.Args[2], &st); err != nil {
			fmt.Println("missing")
			return
		}
		fmt.Printf("%d:%d %o\n", st.Uid, st.Gid, st.Mode&0o7777)
		return
	}
	wd, _ := os.Getwd()
	fmt.Printf("hello %s uid=%d cwd=%s\n", os.Getenv("GREETING"), os.Getuid(), wd)
}
`

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
	uid              int
}

func tarLayer(t *testing.T, entries ...tarEntry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Linkname: e.link, Uid: e.uid, Gid: e.uid}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// probeImage is a two-layer image without a shell: a static program, a
// user, files with owners, a hard link and a symlink; then a whiteout and
// an opaque directory over the first layer.
func probeImage(t *testing.T) v1.Image {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeSource), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\ngo 1.22\n"), 0o644)
	cmd := exec.Command("go", "build", "-o", "probe", ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	bin, _ := os.ReadFile(filepath.Join(dir, "probe"))
	first := tarLayer(t,
		tarEntry{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		tarEntry{name: "bin/probe", body: string(bin), mode: 0o755},
		tarEntry{name: "bin/probe2", typ: tar.TypeLink, link: "bin/probe"},
		tarEntry{name: "bin/hi", typ: tar.TypeSymlink, link: "probe"},
		tarEntry{name: "etc/passwd", body: "root:x:0:0::/root:/bin/false\napp:x:1000:1000::/home/app:/bin/false\n"},
		tarEntry{name: "etc/group", body: "root:x:0:\napp:x:1000:\n"},
		tarEntry{name: "home/app/", typ: tar.TypeDir, mode: 0o750, uid: 1000},
		tarEntry{name: "home/app/owned.txt", body: "mine", mode: 0o600, uid: 1000},
		tarEntry{name: "data/keep.txt", body: "keep"},
		tarEntry{name: "data/gone.txt", body: "gone"},
		tarEntry{name: "opaque/old.txt", body: "old"},
	)
	second := tarLayer(t,
		tarEntry{name: "data/.wh.gone.txt"},
		tarEntry{name: "opaque/", typ: tar.TypeDir, mode: 0o755},
		tarEntry{name: "opaque/.wh..wh..opq"},
		tarEntry{name: "opaque/new.txt", body: "new"},
	)
	img, err := mutate.AppendLayers(empty.Image, first, second)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Env: []string{"PATH=/bin", "GREETING=from-image"}, WorkingDir: "/data", User: "app",
		Cmd: []string{"/bin/probe"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestTemplateFromImage(t *testing.T) {
	s := startServer(t)
	img := probeImage(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	ref := strings.TrimPrefix(reg.URL, "http://") + "/probe:1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, tplName string) {
		t.Helper()
		sb := create(t, s, client.CreateRequest{Template: tplName})
		run := func(cmd ...string) string {
			res, err := sb.Exec(ctxT(t, time.Minute), client.ExecRequest{Cmd: cmd})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec %v: %+v %v", cmd, res, err)
			}
			return string(res.Stdout)
		}
		if got := run("probe"); got != "hello from-image uid=1000 cwd=/data\n" {
			t.Errorf("the image's ENV, USER and WORKDIR: %q", got)
		}
		if got := run("/bin/hi"); !strings.HasPrefix(got, "hello") {
			t.Errorf("a symlink of the image: %q", got)
		}
		for path, want := range map[string]string{
			"/home/app/owned.txt": "1000:1000 600\n", "/home/app": "1000:1000 750\n", "/bin/probe": "0:0 755\n",
			"/data/gone.txt": "missing\n", "/data/keep.txt": "0:0 644\n", "/opaque/old.txt": "missing\n", "/opaque/new.txt": "0:0 644\n",
		} {
			if got := run("probe", "stat", path); got != want {
				t.Errorf("%s: %q, want %q", path, got, want)
			}
		}
		if got := run("probe", "stat", "/bin/probe2"); got != "0:0 755\n" {
			t.Errorf("a hard link of the image: %q", got)
		}
	}

	t.Run("pull", func(t *testing.T) {
		start := time.Now()
		var lines []client.TemplateProgress
		tpl, err := s.client().BuildCustomTemplate(ctxT(t, 5*time.Minute), "from-registry", client.BuildOptions{Image: ref}, func(p client.TemplateProgress) { lines = append(lines, p) })
		if err != nil {
			t.Fatalf("build from %s: %v\n%s", ref, err, progressText(lines))
		}
		t.Logf("pull and unpack: %v", time.Since(start).Round(time.Millisecond))
		if tpl.Config == nil || tpl.Config.User != "app" || len(tpl.Config.Ports) != 1 || tpl.Config.Ports[0] != 8080 {
			t.Errorf("the template's config: %+v", tpl.Config)
		}
		check(t, "from-registry")
		// A Dockerfile builds on an image too, and a second pull is cached.
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"Dockerfile": "FROM " + ref + "\nENV GREETING=layered\n"})
		_, lines, err = buildTemplate(t, s, "on-image", dir, client.BuildOptions{})
		if err != nil || !strings.Contains(progressText(lines), "(cached)") {
			t.Errorf("FROM the image in a Dockerfile: %v\n%s", err, progressText(lines))
		}
	})

	t.Run("docker save archive", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "probe.tar")
		tag, _ := name.NewTag("probe:1")
		if err := tarball.WriteToFile(path, tag, img); err != nil {
			t.Fatal(err)
		}
		buildArchive(t, s, "from-docker-archive", path)
		check(t, "from-docker-archive")
	})

	t.Run("OCI layout archive", func(t *testing.T) {
		dir := t.TempDir()
		p, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "probe-oci.tar")
		if out, err := exec.Command("tar", "-C", filepath.Join(dir, "layout"), "-cf", path, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v %s", err, out)
		}
		buildArchive(t, s, "from-oci-archive", path)
		check(t, "from-oci-archive")
	})

	t.Run("bad images", func(t *testing.T) {
		for ref, want := range map[string]string{
			strings.TrimPrefix(reg.URL, "http://") + "/no-such:1": "pulling",
			"Not A Reference!": "image",
		} {
			_, err := s.client().BuildCustomTemplate(ctxT(t, time.Minute), "bad-image", client.BuildOptions{Image: ref}, nil)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("image %q: %v", ref, err)
			}
		}
		garbage := filepath.Join(t.TempDir(), "x.tar")
		os.WriteFile(garbage, bytes.Repeat([]byte("not an archive "), 100), 0o644)
		f, _ := os.Open(garbage)
		defer f.Close()
		if _, err := s.client().BuildCustomTemplate(ctxT(t, time.Minute), "bad-archive", client.BuildOptions{ImageArchive: f}, nil); err == nil {
			t.Error("a file that is no image archive was taken")
		}
	})
}

func buildArchive(t *testing.T, s *server, tplName, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []client.TemplateProgress
	if _, err := s.client().BuildCustomTemplate(ctxT(t, 5*time.Minute), tplName, client.BuildOptions{ImageArchive: f}, func(p client.TemplateProgress) { lines = append(lines, p) }); err != nil {
		t.Fatalf("build from %s: %v\n%s", path, err, progressText(lines))
	}
}
