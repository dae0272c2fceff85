package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newNamedNetns creates the network namespace name, bind-mounted in
// netnsDir, and returns a handle to it. No thread is left in it: the work
// happens on a locked thread of a goroutine of its own, which switches back
// to the namespace it started in before unlocking; if it cannot switch
// back, it exits still locked and the Go runtime destroys the thread.
func newNamedNetns(name string) (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{netns.None(), fmt.Errorf("opening the current network namespace: %w", err)}
			return
		}
		defer orig.Close()

		ns, err := netns.NewNamed(name) // moves this thread into ns
		if serr := netns.Set(orig); serr != nil {
			if err == nil {
				ns.Close()
				_ = deleteNamedNetns(name)
			}
			done <- result{netns.None(), fmt.Errorf("switching back from new network namespace %s: %w", name, serr)}
			return // still locked: the thread dies with the goroutine
		}
		runtime.UnlockOSThread()
		if err != nil {
			// NewNamed leaves its file behind if the bind mount fails.
			if !errors.Is(err, fs.ErrExist) {
				_ = deleteNamedNetns(name)
			}
			done <- result{netns.None(), fmt.Errorf("creating network namespace %s: %w", name, err)}
			return
		}
		done <- result{ns, nil}
	}()
	r := <-done
	return r.ns, r.err
}

// deleteNamedNetns unmounts and removes the namespace file name. It
// succeeds if the file is already gone or was never mounted. The namespace
// itself lives on while something (a process, an open handle) still uses it.
func deleteNamedNetns(name string) error {
	path := filepath.Join(netnsDir, name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting network namespace %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing network namespace file %s: %w", path, err)
	}
	return nil
}

// isNetns reports whether path is a mounted network namespace, not just a
// file left behind by a crash between creating and mounting it.
func isNetns(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("checking network namespace %s: %w", path, err)
	}
	return st.Type == unix.NSFS_MAGIC, nil
}

// ensureNetnsMount makes netnsDir a shared mount point of its own, as
// iproute2 does at its first `ip netns add`. Were iproute2 to do it later,
// with sandboxes' namespaces already mounted in the directory, its
// recursive bind would put a copy of each over the original, and the
// original, hidden below, would keep its file busy for good: the sandbox's
// teardown could unmount the copy but never remove the file. When the
// directory already holds mounted namespaces (a server that ran before
// this check), it is left as it is.
// Servers and tests on one host take a lock for it, so that none mounts a
// namespace in the directory while another binds it.
func ensureNetnsMount() (bool, error) {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", netnsDir, err)
	}
	if err := os.MkdirAll(filepath.Dir(netnsLock), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", filepath.Dir(netnsLock), err)
	}
	lock, err := os.OpenFile(netnsLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, fmt.Errorf("opening %s: %w", netnsLock, err)
	}
	defer lock.Close() // and with it the lock
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return false, fmt.Errorf("locking %s: %w", netnsLock, err)
	}
	shared := func() error { return unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "") }
	if err = shared(); err == nil {
		return true, nil
	}
	if !errors.Is(err, unix.EINVAL) { // EINVAL: not a mount point
		return false, fmt.Errorf("making %s a shared mount: %w", netnsDir, err)
	}
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", netnsDir, err)
	}
	for _, e := range entries {
		if ok, _ := isNetns(filepath.Join(netnsDir, e.Name())); ok {
			return false, nil
		}
	}
	if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return false, fmt.Errorf("bind-mounting %s on itself: %w", netnsDir, err)
	}
	if err := shared(); err != nil {
		return false, fmt.Errorf("making %s a shared mount: %w", netnsDir, err)
	}
	return true, nil
}
