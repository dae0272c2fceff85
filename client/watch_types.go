package client

import "time"

// Watch event types.
const (
	EventStatus  = "status"
	EventMetrics = "metrics"
)

// WatchEvent is one event of a sandbox's, or a team's, live stream.
type WatchEvent struct {
	Type    string   `json:"type"`          // EventStatus or EventMetrics
	Seq     int64    `json:"seq,omitempty"` // of status events: resume after it
	Status  *Status  `json:"status,omitempty"`
	Metrics *Metrics `json:"metrics,omitempty"`
}

// Status is a sandbox's state after a change.
type Status struct {
	SandboxID string    `json:"sandbox_id"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"` // why it changed
	SSHReady  bool      `json:"ssh_ready"`
	VNCReady  bool      `json:"vnc_ready"`
	At        time.Time `json:"at"`
	// Labels are the sandbox's labels; TimeoutAt when its timeout runs
	// out (Reason is "timeout-warning" a minute before, "timeout" then).
	Labels    map[string]string `json:"labels,omitempty"`
	TimeoutAt *time.Time        `json:"timeout_at,omitempty"`
}

// Metrics is a sandbox's resource use over the last second.
type Metrics struct {
	SandboxID        string    `json:"sandbox_id"`
	At               time.Time `json:"at"`
	CPUPercent       float64   `json:"cpu_percent"` // of its vCPUs: 100 is all of them busy
	MemPercent       float64   `json:"mem_percent"`
	MemBytes         int64     `json:"mem_bytes"`
	MemLimitBytes    int64     `json:"mem_limit_bytes"`
	NetRxBytesPerSec float64   `json:"net_rx_bytes_per_sec"`
	NetTxBytesPerSec float64   `json:"net_tx_bytes_per_sec"`
	DiskUsedBytes    int64     `json:"disk_used_bytes"`
	DiskLimitBytes   int64     `json:"disk_limit_bytes"`
}
