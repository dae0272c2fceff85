package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Node is one server of a cluster (a single host is a cluster of one).
type Node struct {
	Name  string `json:"name"`
	State string `json:"state"` // ready, cordoned, draining or lost
	// Self is set on the node that answered.
	Self         bool      `json:"self"`
	APIURL       string    `json:"api_url"`
	Sandboxes    int       `json:"sandboxes"` // running (or starting, pausing, stopping) on it
	Slots        int       `json:"slots"`     // how many it runs at most
	VCPUs        int       `json:"vcpus"`
	MemoryMB     int64     `json:"memory_mb"`
	DiskMB       int64     `json:"disk_mb"`
	UsedVCPUs    int       `json:"used_vcpus"`
	UsedMemoryMB int64     `json:"used_memory_mb"`
	Templates    []string  `json:"templates"`
	StartedAt    time.Time `json:"started_at"`
	HeartbeatAt  time.Time `json:"heartbeat_at"`
	LeaseUntil   time.Time `json:"lease_until"`
	LostAt       time.Time `json:"lost_at,omitzero"`
}

// Nodes lists the cluster's nodes (admin keys only).
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	return getList[Node](ctx, c, "/v1/nodes", nil, "nodes")
}

// SetNodeState cordons a node (state "cordoned": it takes no new
// sandboxes and keeps its own) or makes it ready again ("ready"). Admin
// keys only.
func (c *Client) SetNodeState(ctx context.Context, name, state string) (*Node, error) {
	var n Node
	err := c.call(ctx, http.MethodPatch, "/v1/nodes/"+url.PathEscape(name), nil, map[string]string{"state": state}, &n)
	return &n, err
}
