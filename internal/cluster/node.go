// Package cluster lets several runtools servers that share one PostgreSQL
// database work as the nodes of one cluster. Each node registers what it
// has (Member.Join) and keeps a lease alive; a node whose lease runs out
// is marked lost by any other, and its running sandboxes are reported
// failed with the reason "node lost" (paused ones keep their records).
// A create is placed on a node with room that holds its template (Place),
// and a request for a sandbox another node runs is forwarded to that node
// (Forwarder), signed with a short-lived token that only the cluster's
// nodes can make, from a secret kept in the database.
//
// Consensus is PostgreSQL's: leases are rows, and a node is marked lost
// by one conditional UPDATE, which exactly one node wins.
package cluster

import (
	"slices"
	"time"
)

// State is a node's state. An admin sets Ready, Cordoned or Draining; Lost
// comes from its lease.
type State string

const (
	Ready    State = "ready"    // takes new sandboxes
	Cordoned State = "cordoned" // keeps its sandboxes, takes no new ones
	Draining State = "draining" // its sandboxes are being moved away
	Lost     State = "lost"     // its lease ran out: it is down or cut off
)

// Node is one server of the cluster, as recorded in the database.
type Node struct {
	Name      string
	APIURL    string   // where the other nodes reach its API: http://HOST:PORT
	ProxyAddr string   // its dev-server proxy's HOST:PORT, "" when off
	SSHAddr   string   // its SSH gateway's HOST:PORT, "" when off
	State     State    // as an admin set it: Ready, Cordoned or Draining
	VCPUs     int      // the host's
	MemoryMB  int64    // the host's
	DiskMB    int64    // free in its data directory when it started
	Slots     int      // how many sandboxes it runs at most
	Templates []string // the built-in templates it holds
	StartedAt time.Time
	Heartbeat time.Time // its last renewal of the lease
	LeaseEnd  time.Time // it is lost after this, unless it renews
	LostAt    time.Time // when it was marked lost; zero while it is not

	// Filled from the sandboxes' records: what runs on it.
	Sandboxes  int // not destroyed, stopped or paused
	UsedVCPUs  int
	UsedMemory int64 // MB
}

// Status is the node's state as the cluster sees it at now: Lost once its
// lease ran out, else what an admin set.
func (n Node) Status(now time.Time) State {
	if !n.LostAt.IsZero() || now.After(n.LeaseEnd) {
		return Lost
	}
	return n.State
}

// Holds reports whether the node holds the template.
func (n Node) Holds(template string) bool { return slices.Contains(n.Templates, template) }
