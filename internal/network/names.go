package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// netnsDir is where named network namespaces are bind-mounted, the same
// place iproute2 ("ip netns") uses.
const netnsDir = "/run/netns"

// netnsLock serializes making netnsDir a mount point (ensureNetnsMount).
const netnsLock = "/run/lock/runtools-netns.lock"

// sandboxID is the only shape of id accepted: ids end up in interface and
// file names.
var sandboxID = regexp.MustCompile(`^sandbox-[a-z0-9]{8,32}$`)

// checkID returns an ErrInvalidArgument error unless id is a sandbox id.
func checkID(id string) error {
	if !sandboxID.MatchString(id) {
		return fmt.Errorf("sandbox id %q: want \"sandbox-\" and 8 to 32 lowercase letters or digits: %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}

// nsName is the name of the sandbox's namespace in netnsDir. The bridge
// prefix keeps Managers with different bridges apart.
func (m *Manager) nsName(id string) string { return m.cfg.Bridge + "-" + id }

// nsPath is the bind-mount path of the sandbox's namespace.
func (m *Manager) nsPath(id string) string { return filepath.Join(netnsDir, m.nsName(id)) }

// idFromNSName returns the sandbox id of one of this Manager's namespace
// names, or false for any other name.
func (m *Manager) idFromNSName(name string) (string, bool) {
	id, ok := strings.CutPrefix(name, m.cfg.Bridge+"-")
	if !ok || checkID(id) != nil {
		return "", false
	}
	return id, true
}

func (m *Manager) vethName(id string) string { return VethName(m.cfg.Bridge, id) }

// VethName is the host end of a sandbox's veth pair on bridge: up to 6
// characters of the bridge name, '-', and 8 hex digits of a hash of bridge
// and id. It fits the kernel's 15-character limit and is deterministic, so
// Teardown finds it after a crash without any record.
func VethName(bridge, id string) string {
	sum := sha256.Sum256([]byte(bridge + "/" + id))
	return bridge[:min(len(bridge), 6)] + "-" + hex.EncodeToString(sum[:4])
}

// Counters returns the bytes a sandbox has received and sent, from the
// host end of its veth (which sends what the sandbox receives).
func (m *Manager) Counters(id string) (rx, tx uint64, err error) {
	if err := checkID(id); err != nil {
		return 0, 0, err
	}
	dir := filepath.Join("/sys/class/net", m.vethName(id), "statistics")
	read := func(name string) (uint64, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, err
		}
		return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	}
	if rx, err = read("tx_bytes"); err != nil {
		return 0, 0, fmt.Errorf("traffic of %s: %w", id, err)
	}
	if tx, err = read("rx_bytes"); err != nil {
		return 0, 0, fmt.Errorf("traffic of %s: %w", id, err)
	}
	return rx, tx, nil
}
