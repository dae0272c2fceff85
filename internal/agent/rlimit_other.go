//go:build !linux

package agent

import "errors"

func setNprocLimit(pid, n int, uid, gid uint32) error {
	return errors.New("RLIMIT_NPROC for children is only supported on Linux")
}
