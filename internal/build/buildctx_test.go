package build

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/ulikunitz/xz"
)

type ctxFile struct {
	name, body, link string
	typ              byte
}

// contextTar writes a context tar and opens it.
func contextTar(t *testing.T, files ...ctxFile) *buildContext {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: 0o644, Size: int64(len(f.body)), Linkname: f.link}
		if f.typ == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if f.typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.body)
	}
	tw.Close()
	path := filepath.Join(t.TempDir(), "context.tar")
	os.WriteFile(path, buf.Bytes(), 0o600)
	c, err := openContext(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func targets(items []copyItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.target)
	}
	return out
}

func sampleContext(t *testing.T) *buildContext {
	return contextTar(t,
		ctxFile{name: ".dockerignore", body: "node_modules\n*.log\n!keep.log\n"},
		ctxFile{name: "package.json", body: `{"name":"app"}`},
		ctxFile{name: "src/", typ: tar.TypeDir},
		ctxFile{name: "src/index.js", body: "console.log(1)"},
		ctxFile{name: "src/lib/util.js", body: "exports.x = 1"},
		ctxFile{name: "node_modules/left-pad/index.js", body: "pad"},
		ctxFile{name: "debug.log", body: "noise"},
		ctxFile{name: "keep.log", body: "kept"},
		ctxFile{name: "link-in", typ: tar.TypeSymlink, link: "src/index.js"},
		ctxFile{name: "link-out", typ: tar.TypeSymlink, link: "../../etc/passwd"},
		ctxFile{name: "abs-link", typ: tar.TypeSymlink, link: "/etc"},
	)
}

func TestPlanCopies(t *testing.T) {
	c := sampleContext(t)
	tests := []struct {
		sources []string
		want    []string
		many    bool
	}{
		{[]string{"package.json"}, []string{"package.json"}, false},
		{[]string{"src"}, []string{"index.js", "lib/util.js"}, true},
		{[]string{"src/"}, []string{"index.js", "lib/util.js"}, true},
		{[]string{"package.json", "src/index.js"}, []string{"package.json", "index.js"}, true},
		{[]string{"*.json"}, []string{"package.json"}, true},
		{[]string{"*.log"}, []string{"keep.log"}, true},
		{[]string{"link-in"}, []string{"link-in"}, false},
		{[]string{"./src/lib"}, []string{"util.js"}, true},
	}
	for _, tt := range tests {
		items, many, err := c.plan(tt.sources)
		if err != nil {
			t.Errorf("plan %v: %v", tt.sources, err)
			continue
		}
		if got := targets(items); !slices.Equal(got, tt.want) || many != tt.many {
			t.Errorf("plan %v = %v (many %v), want %v (many %v)", tt.sources, got, many, tt.want, tt.many)
		}
	}
	all, _, err := c.plan([]string{"."})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		if strings.HasPrefix(it.target, "node_modules") || it.target == "debug.log" {
			t.Errorf(".dockerignore let %s through", it.target)
		}
	}
}

func TestPlanRefusesEscapes(t *testing.T) {
	c := sampleContext(t)
	for src, want := range map[string]string{
		"../x":             "outside the build context",
		"../../etc/passwd": "outside the build context",
		"link-out":         "outside the build context",
		"abs-link":         "outside the build context",
		"abs-link/passwd":  "does not follow links",
		"nope.txt":         "not in the build context",
		"node_modules":     "not in the build context",
		"*.md":             "matches no file",
	} {
		_, _, err := c.plan([]string{src})
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), want) {
			t.Errorf("COPY %s: %v, want an invalid argument saying %q", src, err, want)
		}
	}
}

func TestPlanDigestFollowsContent(t *testing.T) {
	a := contextTar(t, ctxFile{name: "f", body: "one"})
	b := contextTar(t, ctxFile{name: "f", body: "two"})
	ia, _, _ := a.plan([]string{"f"})
	ib, _, _ := b.plan([]string{"f"})
	ia2, _, _ := a.plan([]string{"f"})
	if planDigest(ia) == planDigest(ib) || planDigest(ia) != planDigest(ia2) {
		t.Error("the digest of a COPY does not follow the content it copies")
	}
}

func TestWriteTarRenamesAndChmods(t *testing.T) {
	c := sampleContext(t)
	items, _, _ := c.plan([]string{"src"})
	var buf bytes.Buffer
	if err := c.writeTar(&buf, items, 0o700); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	got := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[hdr.Name] = string(b)
		if hdr.Mode != 0o700 {
			t.Errorf("%s has mode %o, want --chmod's 700", hdr.Name, hdr.Mode)
		}
	}
	if got["index.js"] != "console.log(1)" || got["lib/util.js"] != "exports.x = 1" || len(got) != 2 {
		t.Errorf("tar of COPY src: %v", got)
	}
}

func TestContextWithBadEntries(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "../../evil", Typeflag: tar.TypeReg})
	tw.Close()
	path := filepath.Join(t.TempDir(), "c.tar")
	os.WriteFile(path, buf.Bytes(), 0o600)
	if _, err := openContext(path); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a context with ../../evil: %v", err)
	}
	os.WriteFile(path, []byte("not a tar at all, not at all, not at all"), 0o600)
	if _, err := openContext(path); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a context that is no tar: %v", err)
	}
}

func TestIsArchive(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "x", Typeflag: tar.TypeReg})
	tw.Close()
	if !isArchive(buf.Bytes()) || !isArchive([]byte{0x1f, 0x8b, 8}) || !isArchive([]byte("BZh9")) || isArchive([]byte("plain text")) {
		t.Error("isArchive")
	}
}

// An xz'd tar, as ADD takes it: recognized, and opened to its entries.
func TestXZArchive(t *testing.T) {
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})
	tw.Write([]byte("hi"))
	tw.Close()
	var packed bytes.Buffer
	xw, err := xz.NewWriter(&packed)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(plain.Bytes())
	xw.Close()
	if !isArchive(packed.Bytes()) {
		t.Fatal("an xz'd tar is not recognized")
	}
	r, err := decompress(bytes.NewReader(packed.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(r).Next()
	if err != nil || hdr.Name != "hello.txt" {
		t.Errorf("first entry %+v, %v", hdr, err)
	}
}
