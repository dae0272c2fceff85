package objstore

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A directory packs and unpacks the same, its zeros as holes; names that
// leave the directory are refused; a truncated stream is an error.
func TestPackUnpack(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "pause"), 0o700)
	os.WriteFile(filepath.Join(src, "lower"), []byte("/templates/base"), 0o600)
	f, _ := os.Create(filepath.Join(src, "pause", "disk.img"))
	f.Truncate(64 << 20)
	f.WriteAt([]byte("data in the middle"), 32<<20)
	f.Close()
	var buf bytes.Buffer
	if err := pack(&buf, src, []string{"lower", "pause"}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 64<<10 {
		t.Errorf("64 MiB of mostly zeros packed into %d bytes", buf.Len())
	}
	dst := filepath.Join(t.TempDir(), "out")
	if err := unpack(bytes.NewReader(buf.Bytes()), dst); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dst, "pause", "disk.img"))
	want, _ := os.ReadFile(filepath.Join(src, "pause", "disk.img"))
	if !bytes.Equal(got, want) {
		t.Error("the disk image differs after a round trip")
	}
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(dst, "pause", "disk.img"), &st)
	if st.Blocks*512 > 4<<20 {
		t.Errorf("the unpacked disk image takes %d bytes: not sparse", st.Blocks*512)
	}
	if l, _ := os.ReadFile(filepath.Join(dst, "lower")); string(l) != "/templates/base" {
		t.Errorf("lower: %q", l)
	}
	trunc := buf.Bytes()[:buf.Len()/2]
	if err := unpack(bytes.NewReader(trunc), filepath.Join(t.TempDir(), "t")); err == nil {
		t.Error("a truncated image unpacked")
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "/abs", "a/../../evil"} {
		var buf bytes.Buffer
		if err := packNamed(&buf, name); err != nil {
			t.Fatal(err)
		}
		base := t.TempDir()
		if err := unpack(&buf, filepath.Join(base, "in")); !errors.Is(err, errUnsafe) {
			t.Errorf("%q: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(base, "evil")); err == nil {
			t.Errorf("%q escaped", name)
		}
	}
}

// packNamed packs one small file under any name, as a hostile store could.
func packNamed(w *bytes.Buffer, name string) error {
	zw, err := zstd.NewWriter(w)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	return zw.Close()
}

// A sparse map that overlaps, leaves the file or disagrees with the data
// that follows is refused.
func TestUnpackRefusesBadSparseMaps(t *testing.T) {
	for _, m := range []string{"0:4,2:2", "0:4,100:1", "0:2", "x:1", "-1:6"} {
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o600, Size: 6, Typeflag: tar.TypeReg, Format: tar.FormatPAX,
			PAXRecords: map[string]string{paxSparseMap: m, paxSparseSize: "50"}})
		tw.Write([]byte("abcdef"))
		tw.Close()
		zw.Close()
		if err := unpack(&buf, filepath.Join(t.TempDir(), "in")); !errors.Is(err, errUnsafe) {
			t.Errorf("map %q: %v", m, err)
		}
	}
}
