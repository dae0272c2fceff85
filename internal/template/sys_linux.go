package template

import (
	"errors"
	"os"
	"syscall"
)

// isolatedProcAttr runs a build command in its own mount and PID
// namespaces: whatever it mounts (proc in the chroot, mmdebstrap's own
// mounts) and whatever it starts disappear when it exits or is killed,
// and it is killed if this process dies. Go makes / private in the new
// mount namespace, so nothing propagates back to the host.
func isolatedProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS,
		Setpgid:      true,
		Pdeathsig:    syscall.SIGKILL,
	}
}

// flock takes an exclusive or shared flock on f without waiting; ok is
// false if someone else holds a conflicting one.
func flock(f *os.File, exclusive bool) (ok bool, err error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// killGroup kills a build command's process group (and so its PID
// namespace).
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
