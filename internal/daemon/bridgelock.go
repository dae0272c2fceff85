package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// bridgeLockDir holds one lock file per bridge a server runs on. It is on
// tmpfs: a lock names a running server, and none outlives a reboot.
const bridgeLockDir = "/run/runtools"

// lockBridge takes the bridge for this server for as long as it runs, or
// refuses: a second server on the same bridge would take over the first
// one's network, firewall and addresses, and a sandbox of the first was
// lost when that happened. The lock is the kernel's (flock), so a server
// killed with SIGKILL leaves nothing to clean up. The file names the
// holder's data directory, for the error.
func lockBridge(bridge, dataDir string) (release func(), err error) {
	if err := os.MkdirAll(bridgeLockDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", bridgeLockDir, err)
	}
	path := filepath.Join(bridgeLockDir, "bridge-"+bridge+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the bridge's lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		owner, _ := os.ReadFile(path)
		return nil, fmt.Errorf("another runtools server runs on bridge %s, with data directory %s: stop it, "+
			"or give this server a bridge and subnet of its own (--bridge, --subnet)", bridge, strings.TrimSpace(string(owner)))
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(abs+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
