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
	if err := tw.WriteHeader(hdr); err != nil || info.IsDir() {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
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
			err = writeSparse(path, tr, hdr.Size, os.FileMode(hdr.Mode)&0o777)
		default:
			err = fmt.Errorf("%w: %q is neither a file nor a directory", errUnsafe, hdr.Name)
		}
		if err != nil {
			return err
		}
	}
}

// writeSparse writes size bytes from r to a new file, skipping over
// blocks of zeros so they stay holes.
func writeSparse(path string, r io.Reader, size int64, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return err
	}
	defer f.Close()
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
		return fmt.Errorf("%s: the image ends after %d of its %d bytes", path, total, size)
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
