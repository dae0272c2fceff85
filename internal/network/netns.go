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
