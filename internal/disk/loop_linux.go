package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// MountImage attaches image to a free loop device and mounts its ext4 at
// target. The loop device goes away by itself when target is unmounted
// (it is set to clear itself), so no device outlives its mount.
func MountImage(image, target string) error { return attach(image, target, false) }

// mountImageRO mounts image read-only at target. The device stays
// writable, so that ext4 replays its journal: what was synced is there.
func mountImageRO(image, target string) error { return attach(image, target, true) }

func attach(image, target string, readOnly bool) error {
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	// discard: what the sandbox deletes is given back to the host.
	flags, opts := uintptr(unix.MS_NODEV|unix.MS_NOSUID), "noinit_itable,discard,errors=remount-ro"
	if readOnly {
		flags, opts = flags|unix.MS_RDONLY|unix.MS_NOEXEC, "noinit_itable"
	}
	f, err := os.OpenFile(image, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the sandbox's disk: %w", err)
	}
	defer f.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("durable disks need loop devices: %w", err)
	}
	defer ctl.Close()
	// Another process may take the free device between the two calls:
	// then ask again.
	for range 16 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return fmt.Errorf("finding a free loop device: %w", err)
		}
		dev, err := openLoop(n)
		if err != nil {
			return err
		}
		cfg := unix.LoopConfig{Fd: uint32(f.Fd()), Info: unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}}
		copy(cfg.Info.File_name[:], image)
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if errors.Is(err, unix.EBUSY) {
			dev.Close()
			continue
		}
		if err != nil {
			dev.Close()
			return fmt.Errorf("attaching the sandbox's disk to %s: %w", dev.Name(), err)
		}
		err = unix.Mount(dev.Name(), target, "ext4", flags, opts)
		dev.Close() // with AUTOCLEAR, the mount now holds the device
		if err != nil {
			return fmt.Errorf("mounting the sandbox's disk: %w", err)
		}
		return nil
	}
	return fmt.Errorf("no free loop device after 16 tries")
}

// openLoop opens /dev/loopN, making its node if the host's /dev lacks it.
func openLoop(n int) (*os.File, error) {
	path := "/dev/loop" + strconv.Itoa(n)
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := unix.Mknod(path, unix.S_IFBLK|0o660, int(unix.Mkdev(7, uint32(n)))); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("making %s: %w", path, err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return f, nil
}

// Used is what the files on the disk mounted in dir take, as df counts
// it.
func (d *Disks) Used(dir string) (int64, error) {
	_, used, err := Usage(filepath.Join(dir, mountName))
	return used, err
}

// Usage returns what the filesystem mounted at dir can hold and what its
// files take, as df counts them.
func Usage(dir string) (size, used int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Blocks-st.Bfree) * st.Bsize, nil
}

// syncfs writes what is cached of the filesystem mounted at dir to its
// image.
func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing the sandbox's disk: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncing the sandbox's disk: %w", err)
	}
	return nil
}
