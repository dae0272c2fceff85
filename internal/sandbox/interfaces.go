package sandbox

import (
	"context"
	"net/netip"
)

// RunSpec is everything the runtime needs to start one sandbox.
type RunSpec struct {
	ID       string
	RootFS   string // read-only template root filesystem
	Dir      string // host directory owned by this sandbox; the runtime lays out its files here
	NetNS    string // path of the network namespace to join
	Hostname string
	Agent    string   // host path of the agent binary, mounted read-only
	Env      []string // environment of the agent (PID 1)
	VCPUs    int
	MemoryMB int
	DiskMB   int
	Platform string // gVisor platform for this sandbox; "" for the runtime's
	// WritableRoot: writes go into RootFS itself, not the sandbox's own
	// disk (a template build step writing its layer).
	WritableRoot bool
	// OwnDisk: RootFS is the sandbox's own durable disk, written through
	// directly (its image is the disk limit).
	OwnDisk bool
	// Binds are host directories mounted into the sandbox: its volumes.
	Binds []Bind
}

// Bind is a host directory mounted into a sandbox. It is an alias of an
// unnamed struct, so that a RunSpec converts to the runtime's own Spec,
// whose Bind is the same.
type Bind = struct {
	Source, Destination string
	ReadOnly            bool
}

// Exit says how a sandbox ended on its own.
type Exit struct {
	OOM    bool   // the memory limit was hit
	Detail string // human-readable cause
}

// Runtime runs isolated sandboxes.
type Runtime interface {
	Start(ctx context.Context, spec RunSpec) error
	// Destroy stops the sandbox and removes the runtime's state for it. It
	// succeeds if the sandbox is already gone.
	Destroy(ctx context.Context, id string) error
	// Wait blocks until the sandbox ends or ctx is done.
	Wait(ctx context.Context, id string) (Exit, error)
	// List returns the IDs of every sandbox the runtime knows, running or not.
	List(ctx context.Context) ([]string, error)
	// Running reports whether the sandbox exists and runs.
	Running(ctx context.Context, id string) (bool, error)
}

// Network gives each sandbox its own network namespace and address.
type Network interface {
	Allocate(used []netip.Addr) (netip.Addr, error)
	// Setup makes the sandbox's namespace, or completes an existing one,
	// putting the address back (gVisor takes it into its own stack, so a
	// restore needs it again).
	Setup(ctx context.Context, sb *Sandbox) (nsPath string, err error)
	// Apply puts the sandbox's network policy in place, its team and its
	// egress rules, or changes it; an unchanged policy costs nothing.
	Apply(ctx context.Context, sb *Sandbox) error
	// Teardown removes the sandbox's namespace and its policy.
	Teardown(ctx context.Context, id string) error
	List(ctx context.Context) ([]string, error)
	DNS() []netip.Addr
}

// Checkpointer is the optional runtime ability to save a running sandbox
// to an image and start a sandbox from one.
type Checkpointer interface {
	// Checkpoint saves the sandbox's memory and disk into imageDir. Without
	// leaveRunning the sandbox stops once saved.
	Checkpoint(ctx context.Context, id, imageDir string, leaveRunning bool) error
	// Restore starts spec.ID from imageDir, with the bundle of the sandbox
	// whose directory is from (itself, or a fork's parent) adapted to spec.
	Restore(ctx context.Context, spec RunSpec, from, imageDir string) error
}

// Freezer is the optional runtime ability to stop a sandbox's processes
// where they are, so that a snapshot copies a disk nothing writes to.
type Freezer interface {
	Freeze(ctx context.Context, id string) error
	Thaw(ctx context.Context, id string) error
}

// Disks keeps sandboxes' durable disks (package disk). dir is a sandbox's
// directory.
type Disks interface {
	// Create makes an empty disk in dir over the template root filesystem lower.
	Create(ctx context.Context, dir, lower string, sizeMB int) error
	// Mount mounts the disk (first putting the image next in place, if it
	// exists) and returns the root filesystem.
	Mount(dir, next string) (string, error)
	// Unmount unmounts it; the image keeps what was written.
	Unmount(dir string) error
	// Sync writes what was written on the mounted disk through to its
	// image file.
	Sync(dir string) error
	// Save copies the disk of a sandbox that does not write into dst.
	Save(dir, dst string) (int64, error)
	// Remove removes dir, disk and all, once nothing in it is mounted.
	Remove(dir string) error
	// Used is what the files on the mounted disk take.
	Used(dir string) (int64, error)
	// Read mounts a saved disk image read-only at mnt and calls fn with
	// the directory of what the sandbox wrote (its overlay's upper).
	Read(image, mnt string, fn func(upper string) error) error
}

// VolumeHost keeps volumes on the host (package volume): an image each,
// mounted while the server runs.
type VolumeHost interface {
	// Create makes an empty volume of sizeMB and mounts it.
	Create(ctx context.Context, id string, sizeMB int) error
	// Mount mounts the volume unless it is, and returns its mount point.
	Mount(id string) (string, error)
	// Remove unmounts the volume and removes its image.
	Remove(id string) error
	Usage(id string) (VolumeUsage, error)
	// List returns the IDs of the volumes on the host.
	List() ([]string, error)
}

// Templates resolves a template name (or alias) a team may use to its
// root filesystem and what its sandboxes start with.
type Templates interface {
	Resolve(ctx context.Context, teamID, name string) (Template, error)
}

// Template is what a sandbox takes from its template.
type Template struct {
	Name     string // canonical
	RootFS   string
	MemoryMB int   // default memory; 0: the manager's default
	Ports    []int // exposed besides DefaultPorts
	Desktop  bool  // runs the desktop's services (VNC on DesktopPort)
	// What a custom template's sandboxes start with: its Dockerfile's ENV
	// (NAME=value), WORKDIR and USER (exec's defaults), and the command of
	// its ENTRYPOINT and CMD, started in the background at create.
	Env     []string
	Workdir string
	User    string
	Start   []string
}

// Store keeps sandbox records.
type Store interface {
	InsertSandbox(ctx context.Context, sb *Sandbox) error
	UpdateSandbox(ctx context.Context, sb *Sandbox) error
	GetSandbox(ctx context.Context, id string) (*Sandbox, error)
	// FindSandbox finds a team's sandbox by ID, or by name among live ones.
	FindSandbox(ctx context.Context, teamID, ref string) (*Sandbox, error)
	// ListSandboxes lists a team's sandboxes ("" = every team), newest first.
	ListSandboxes(ctx context.Context, teamID string, includeStopped bool) ([]*Sandbox, error)
	// LiveIPs returns the addresses held on a node by sandboxes not destroyed.
	LiveIPs(ctx context.Context, node string) ([]netip.Addr, error)
	Events(ctx context.Context, id string) ([]Event, error)
	// EventsSince returns events after seq, oldest first, at most limit:
	// of one sandbox, or of a team's ("" for every team's) with id "".
	EventsSince(ctx context.Context, teamID, id string, seq int64, limit int) ([]Event, error)
	LastEventSeq(ctx context.Context) (int64, error)
	// AddEvent records an event without a change of state.
	AddEvent(ctx context.Context, id string, state State, why string) error
	// Changed is closed at the next write of a record or an event.
	Changed() <-chan struct{}

	InsertSnapshot(ctx context.Context, s *Snapshot) error
	UpdateSnapshot(ctx context.Context, s *Snapshot) error
	DeleteSnapshot(ctx context.Context, id string) error
	// Snapshots lists a sandbox's snapshots ("" = every sandbox's), oldest first.
	Snapshots(ctx context.Context, sandboxID string) ([]*Snapshot, error)

	// InsertVolume records a volume; a name the team uses gives
	// errdefs.ErrAlreadyExists.
	InsertVolume(ctx context.Context, v *Volume) error
	// FindVolume finds a team's volume by ID or name.
	FindVolume(ctx context.Context, teamID, ref string) (*Volume, error)
	// ListVolumes lists a team's volumes ("" = every team's), by name.
	ListVolumes(ctx context.Context, teamID string) ([]*Volume, error)
	DeleteVolume(ctx context.Context, id string) error
	// VolumeMB is the size of all of a team's volumes together.
	VolumeMB(ctx context.Context, teamID string) (int64, error)
}
