package gvisor

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveSockets: Destroy removes a control socket a killed sandbox
// left in runsc's root, and nothing else there.
func TestRemoveSockets(t *testing.T) {
	root := t.TempDir()
	r := &Runtime{cfg: Config{Root: root}}
	sock := filepath.Join(root, "runsc-sandbox-test1.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	other := filepath.Join(root, "runsc-sandbox-test2.sock")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r.removeSockets("sandbox-test1")
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the stale socket is still there: %v", err)
	}
	r.removeSockets("sandbox-test2")
	if _, err := os.Lstat(other); err != nil {
		t.Errorf("a file that is not a socket was removed: %v", err)
	}
}
