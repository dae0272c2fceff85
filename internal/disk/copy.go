package disk

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Copy copies the file src to a new file dst and syncs it. Where the
// filesystem can, dst shares src's blocks (a reflink: copy-on-write, no
// bytes copied); elsewhere only the parts of src that hold data are
// copied, so a sparse image stays sparse. It returns the bytes copied.
func Copy(dst, src string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := copyInto(out, in, fi.Size())
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("copying %s: %w", src, err)
	}
	return n, nil
}

func copyInto(out, in *os.File, size int64) (int64, error) {
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return 0, nil
	}
	if err := out.Truncate(size); err != nil {
		return 0, err
	}
	var copied int64
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return copied, err
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return copied, err
		}
		n, err := copyRange(out, in, data, hole-data)
		copied += n
		if err != nil {
			return copied, err
		}
		off = hole
	}
	return copied, nil
}

// copyRange copies n bytes at off of in to the same place in out, in
// the kernel where it can (copy_file_range), else through a buffer (out
// on another filesystem).
func copyRange(out, in *os.File, off, n int64) (int64, error) {
	var done int64
	for done < n {
		inOff, outOff := off+done, off+done
		c, err := unix.CopyFileRange(int(in.Fd()), &inOff, int(out.Fd()), &outOff, int(min(n-done, 1<<30)), 0)
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
			w := io.NewOffsetWriter(out, off+done)
			m, err := io.Copy(w, io.NewSectionReader(in, off+done, n-done))
			return done + m, err
		}
		if err != nil {
			return done, err
		}
		if c == 0 {
			return done, io.ErrUnexpectedEOF
		}
		done += int64(c)
	}
	return done, nil
}
