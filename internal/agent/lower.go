package agent

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// lowerLayerTest returns a test of whether a file under dir is one of the
// lower layer of the overlay dir is on, which the sandbox has not changed:
// gVisor's overlay reports the device of the layer a regular file lives
// in, so a file is in the lower layer when its device is neither that of
// a file just created in dir (the upper layer) nor that of any mount. It
// returns nil, and every file is sent, when dir cannot be probed.
func (s *Server) lowerLayerTest(dir string) func(*syscall.Stat_t) bool {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	probe, err := os.CreateTemp(dir, ".runtools-probe-*")
	if err != nil {
		s.log.Info("an archive sends every file: the directory cannot be probed", "dir", dir, "err", err)
		return nil
	}
	defer os.Remove(probe.Name())
	defer probe.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(probe.Fd()), &st); err != nil {
		return nil
	}
	mounts, err := mountDevices()
	if err != nil {
		s.log.Info("an archive sends every file: the mounts cannot be read", "err", err)
		return nil
	}
	return func(f *syscall.Stat_t) bool { return isLowerLayer(f.Dev, st.Dev, mounts) }
}

// isLowerLayer reports whether a file on device dev lives in an overlay's
// lower layer, given the upper layer's device and those of the mounts.
func isLowerLayer(dev, upper uint64, mounts map[uint64]bool) bool {
	return dev != upper && !mounts[dev]
}

// mountDevices reads the device of every mount from /proc/self/mountinfo.
func mountDevices() (map[uint64]bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	devs := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		var major, minor uint32
		if _, err := fmt.Sscanf(fields[2], "%d:%d", &major, &minor); err == nil {
			devs[unix.Mkdev(major, minor)] = true
		}
	}
	return devs, sc.Err()
}
