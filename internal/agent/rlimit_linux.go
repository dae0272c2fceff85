package agent

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// rlimitNproc is RLIMIT_NPROC, which package syscall does not export. It is 6
// on every architecture the agent is built for (amd64, arm64).
const rlimitNproc = 6

// keep is the "leave unchanged" argument of setresuid and setresgid.
const keep = ^uintptr(0)

// setNprocLimit sets RLIMIT_NPROC (soft and hard) of process pid, which runs
// as uid:gid, to n.
//
// prlimit(2) on another process needs CAP_SYS_RESOURCE, which a sandbox's
// root usually lacks, or a caller whose real uid and gid equal all of the
// target's uids and gids. For a root child the agent matches already. For
// another user the agent makes one OS thread match: credentials are per
// thread in the kernel (and in gVisor's sentry), so a locked thread sets its
// real uid and gid to the child's with raw setresuid/setresgid, keeping
// effective and saved ids 0 and with them its capabilities, calls prlimit,
// and switches back. The Go runtime never clones a locked thread, and a
// thread that cannot switch back is not returned to the runtime (the
// goroutine exits locked, which ends the thread). For those microseconds a
// process of that user may signal that one thread; sandbox users can run as
// root anyway, so this grants nothing.
func setNprocLimit(pid, n int, uid, gid uint32) error {
	err := prlimitNproc(pid, n)
	if !errors.Is(err, syscall.EPERM) || syscall.Geteuid() != 0 {
		return err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		done <- asRealIDs(uid, gid, func() error { return prlimitNproc(pid, n) })
	}()
	return <-done
}

// asRealIDs runs fn with the calling thread's real uid and gid set to uid
// and gid. The caller must have locked the goroutine to its thread; it is
// unlocked again only if the original ids are restored.
func asRealIDs(uid, gid uint32, fn func() error) error {
	ruid, rgid := uintptr(syscall.Getuid()), uintptr(syscall.Getgid())
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(gid), keep, keep); e != 0 {
		runtime.UnlockOSThread()
		return fmt.Errorf("setresgid: %w", e)
	}
	var err error
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(uid), keep, keep); e != 0 {
		err = fmt.Errorf("setresuid: %w", e)
	} else {
		err = fn()
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, ruid, keep, keep); e != 0 {
			return errors.Join(err, fmt.Errorf("restoring uid: %w", e)) // thread stays locked and dies
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, rgid, keep, keep); e != 0 {
		return errors.Join(err, fmt.Errorf("restoring gid: %w", e))
	}
	runtime.UnlockOSThread()
	return err
}

func prlimitNproc(pid, n int) error {
	lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), rlimitNproc,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
