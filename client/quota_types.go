package client

// Quota is one of a team's limits with its use: an item of TeamUsage, and
// the detail of an error answer a quota refused (with Requested and Hint).
type Quota struct {
	Name      string `json:"name"` // sandboxes, vcpus, memory_mb, disk_bytes or builds
	Unit      string `json:"unit"` // sandboxes, vcpus, MB, bytes or builds
	Used      int64  `json:"used"`
	Limit     int64  `json:"limit"`               // 0: no limit
	Requested int64  `json:"requested,omitempty"` // what the refused request needed on top of Used
	Hint      string `json:"hint,omitempty"`      // what to do
}

// Names of the limits (Quota.Name).
const (
	QuotaSandboxes = "sandboxes"
	QuotaVCPUs     = "vcpus"
	QuotaMemoryMB  = "memory_mb"
	QuotaDiskBytes = "disk_bytes"
	QuotaBuilds    = "builds"
)

// TeamLimits are what a team may use; 0 is no limit.
type TeamLimits struct {
	MaxSandboxes int64 `json:"max_sandboxes"`  // running sandboxes
	MaxVCPUs     int64 `json:"max_vcpus"`      // of its running sandboxes together
	MaxMemoryMB  int64 `json:"max_memory_mb"`  // of its running sandboxes together
	MaxDiskBytes int64 `json:"max_disk_bytes"` // paused sandboxes, snapshots, volumes and custom templates
	MaxBuilds    int64 `json:"max_builds"`     // template builds at once
}

// UpdateTeamRequest changes a team's limits (an admin key). A field left
// nil is unchanged; 0 is no limit; -1 gives the team the server's default.
type UpdateTeamRequest struct {
	MaxSandboxes *int64 `json:"max_sandboxes,omitempty"`
	MaxVCPUs     *int64 `json:"max_vcpus,omitempty"`
	MaxMemoryMB  *int64 `json:"max_memory_mb,omitempty"`
	MaxDiskBytes *int64 `json:"max_disk_bytes,omitempty"`
	MaxBuilds    *int64 `json:"max_builds,omitempty"`
}

// TeamUsage is what a team uses against each of its limits.
type TeamUsage struct {
	Team   string    `json:"team"`
	Quotas []Quota   `json:"quotas"`
	Disk   DiskUsage `json:"disk"`
}

// DiskUsage is what makes up a team's disk use, in bytes.
type DiskUsage struct {
	PausedBytes   int64 `json:"paused_bytes"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
	VolumeBytes   int64 `json:"volume_bytes"`
	TemplateBytes int64 `json:"template_bytes"`
}
