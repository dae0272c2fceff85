package integration

import (
	"syscall"
	"testing"
)

type unixStatfs struct{ syscall.Statfs_t }

func (s *unixStatfs) free() int64 { return int64(s.Bavail) * int64(s.Bsize) }

func statfs(t *testing.T, path string, out *unixStatfs) {
	if err := syscall.Statfs(path, &out.Statfs_t); err != nil {
		t.Fatal(err)
	}
}
