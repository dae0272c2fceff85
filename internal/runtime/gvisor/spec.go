package gvisor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Spec is one sandbox to start. Its fields match sandbox.RunSpec, so the
// daemon converts between them directly.
type Spec struct {
	ID       string
	RootFS   string
	Dir      string
	NetNS    string
	Hostname string
	Agent    string
	Env      []string
	VCPUs    int
	MemoryMB int
	DiskMB   int
	Platform string // "" for the runtime's platform
	// WritableRoot: writes go into RootFS itself through the gofer, with
	// no overlay of gVisor's own (a template build step's layer); the
	// disk limit does not apply.
	WritableRoot bool
	// OwnDisk: RootFS is the sandbox's own durable disk (package disk),
	// written through the gofer with no overlay of gVisor's own; its
	// image is the disk limit.
	OwnDisk bool
	// Binds are host directories mounted into the sandbox: its volumes.
	Binds []Bind
}

// Bind is a host directory mounted at Destination inside a sandbox,
// read-only if ReadOnly. gVisor serves it through the gofer with
// --file-access-mounts=shared (its default): it revalidates what it
// caches against the host, so writes from the host or another sandbox
// sharing the directory are seen.
type Bind = struct {
	Source, Destination string
	ReadOnly            bool
}

// bindMounts are the OCI mounts of binds.
func bindMounts(binds []Bind) []specs.Mount {
	var out []specs.Mount
	for _, b := range binds {
		mode := "rw"
		if b.ReadOnly {
			mode = "ro"
		}
		out = append(out, specs.Mount{Destination: b.Destination, Type: "bind", Source: b.Source,
			Options: []string{"rbind", mode, "nosuid", "nodev"}})
	}
	return out
}

// keepTmp keeps what a build step writes to /tmp in its layer, as Docker
// does: gVisor mounts a tmpfs of its own over an empty /tmp unless the
// spec mounts something there, so the root filesystem's own /tmp is
// mounted over itself. Only a real directory is (never a symlink, which
// would lead the mount out of the root filesystem).
func keepTmp(rootfs string) []specs.Mount {
	tmp := filepath.Join(rootfs, "tmp")
	if fi, err := os.Lstat(tmp); err != nil || !fi.IsDir() {
		return nil
	}
	return []specs.Mount{{Destination: "/tmp", Type: "bind", Source: tmp, Options: []string{"rbind", "rw"}}}
}

// AgentPath is where the agent binary appears inside every sandbox.
const AgentPath = "/.runtools/runtools"

// cpuPeriod is the CFS period; a sandbox gets VCPUs periods of quota.
const cpuPeriod = 100000

// defaultCaps is the capability set of root inside a sandbox: the usual
// container set. gVisor implements them against its own kernel, not the host's.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
	"CAP_SYS_PTRACE",
}

// ociSpec builds the OCI runtime spec for a sandbox. Nothing from a user
// request reaches it except validated numbers and the sandbox's own ID.
func ociSpec(s Spec, cgroupParent string, hostPids int64) *specs.Spec {
	mem := int64(s.MemoryMB) << 20
	quota := int64(s.VCPUs) * cpuPeriod
	period := uint64(cpuPeriod)
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: s.Hostname,
		Root:     &specs.Root{Path: s.RootFS, Readonly: false},
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Args: []string{AgentPath, "agent"},
			Env:  append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, s.Env...),
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps,
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 65536, Soft: 65536}},
		},
		Mounts: append([]specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: AgentPath, Type: "bind", Source: s.Agent, Options: []string{"rbind", "ro"}},
		}, bindMounts(s.Binds)...),
		Linux: &specs.Linux{
			CgroupsPath: filepath.Join(cgroupParent, s.ID),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: s.NetNS},
			},
			Resources: &specs.LinuxResources{
				Memory: &specs.LinuxMemory{Limit: &mem},
				CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
				Pids:   &specs.LinuxPids{Limit: &hostPids},
			},
		},
	}
}

// RootFS returns the root filesystem a sandbox runs on, from the bundle in
// its directory dir.
func RootFS(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "bundle", "config.json"))
	if err != nil {
		return "", fmt.Errorf("reading the sandbox's bundle: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil || spec.Root == nil {
		return "", fmt.Errorf("reading the sandbox's bundle: %v", err)
	}
	return spec.Root.Path, nil
}
