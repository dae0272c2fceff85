package client

import (
	"context"
	"encoding/json"
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

// MoveRequest moves a paused sandbox to another node of a cluster.
type MoveRequest struct {
	// Node is where it goes; "" lets placement pick.
	Node string `json:"node,omitempty"`
}

// Move moves a paused sandbox (or one whose node is lost) to another node
// of the cluster and resumes it there, from its image in the object
// store. Its name, URLs and SSH stay; its IP changes.
func (c *Client) Move(ctx context.Context, ref, node string) (*Sandbox, error) {
	var sb Sandbox
	err := c.call(ctx, http.MethodPost, sandboxPath(ref, "move"), nil, MoveRequest{Node: node}, &sb)
	return &sb, err
}

// DrainEvent is one line of a drain's progress: a sandbox moved (or not),
// or, with Done, the summary.
type DrainEvent struct {
	Sandbox string `json:"sandbox,omitempty"`
	Name    string `json:"name,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	IP      string `json:"ip,omitempty"`      // its new address
	AwayMS  int64  `json:"away_ms,omitempty"` // from its pause to its resume elsewhere
	Error   string `json:"error,omitempty"`
	Done    bool   `json:"done,omitempty"`
	Node    string `json:"node,omitempty"` // the summary's: the node drained
	Moved   int    `json:"moved,omitempty"`
	Failed  int    `json:"failed,omitempty"`
}

// Drain drains a node (admin keys only): it takes no new sandboxes, and
// each sandbox running on it is paused and resumed on another node. fn,
// if set, sees each sandbox's outcome as it comes; the summary is
// returned.
func (c *Client) Drain(ctx context.Context, node string, fn func(DrainEvent)) (*DrainEvent, error) {
	var sum DrainEvent
	err := c.stream(ctx, http.MethodPost, "/v1/nodes/"+url.PathEscape(node)+"/drain", nil, struct{}{}, func(line []byte) error {
		var ev DrainEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return err
		}
		if ev.Done {
			sum = ev
		} else if fn != nil {
			fn(ev)
		}
		return nil
	})
	return &sum, err
}
