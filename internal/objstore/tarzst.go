package objstore

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klauspost/compress/zstd"
)

// pack writes the files of dir named by paths as a zstd stream of a tar.
// Only directories and regular files go in.
func pack(w io.Writer, dir string, paths []string) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(dir, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return addFile(tw, dir, path, d)
		})
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func addFile(tw *tar.Writer, dir, path string, d fs.DirEntry) error {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return err
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		return fmt.Errorf("%s is neither a file nor a directory", path)
	}
	hdr, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uname, hdr.Gname = filepath.ToSlash(rel), "", ""
	if info.IsDir() {
		return tw.WriteHeader(hdr)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	segs, err := dataSegments(f, info.Size())
	if err != nil {
		return err
	}
	if segs != nil {
		sparseHeader(hdr, segs)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if segs == nil {
		segs = []segment{{0, info.Size()}} // dataSegments moved the file's offset: read at offsets
	}
	return writeSegments(tw, f, segs)
}

// unpack makes dir and writes into it the files of a stream pack wrote.
// Names that would leave dir, and anything but files and directories,
// are refused; runs of zeros become holes.
func unpack(r io.Reader, dir string) error {
	zr, err := zstd.NewReader(r)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(hdr.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%w: %q", errUnsafe, hdr.Name)
		}
		path := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o700)
		case tar.TypeReg:
			err = writeFile(path, tr, hdr)
		default:
			err = fmt.Errorf("%w: %q is neither a file nor a directory", errUnsafe, hdr.Name)
		}
		if err != nil {
			return err
		}
	}
}

// writeFile writes a file of the tar into a new file at path: a sparse
// one's segments at their offsets, another's bytes but runs of zeros.
func writeFile(path string, r io.Reader, hdr *tar.Header) error {
	segs, size, sparse, err := sparseOf(hdr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, os.FileMode(hdr.Mode)&0o777)
	if err != nil {
		return err
	}
	defer f.Close()
	if sparse {
		err = readSegments(f, r, segs, size)
	} else {
		err = writeZeroHoles(f, r, hdr.Size)
	}
	if err != nil {
		return err
	}
	return f.Sync()
}

// writeZeroHoles writes size bytes from r to f, skipping over blocks of
// zeros so they stay holes.
func writeZeroHoles(f *os.File, r io.Reader, size int64) error {
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		total += int64(n)
		if n > 0 {
			if bytes.Equal(buf[:n], zero[:n]) {
				_, werr := f.Seek(int64(n), io.SeekCurrent)
				err = firstErr(werr, err)
			} else if _, werr := f.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if total != size {
		return fmt.Errorf("%s: the image ends after %d of its %d bytes", f.Name(), total, size)
	}
	return f.Truncate(size)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
