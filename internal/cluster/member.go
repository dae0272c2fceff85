package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/runtools/runtools/internal/sandbox"
)

// Store is what the cluster keeps in the database.
type Store interface {
	RegisterNode(ctx context.Context, n Node) error
	// RenewLease extends a node's lease and reports whether it had been
	// marked lost.
	RenewLease(ctx context.Context, name string, now, until time.Time) (wasLost bool, err error)
	Nodes(ctx context.Context) ([]Node, error)
	SetNodeState(ctx context.Context, name string, s State) error
	// MarkLost marks lost the nodes whose lease ended before now, each by
	// one caller only, and returns their names.
	MarkLost(ctx context.Context, now time.Time) ([]string, error)
	// FailSandboxes records the sandboxes running on node as failed.
	FailSandboxes(ctx context.Context, node, why string) (int, error)
	ClusterSecret(ctx context.Context) ([]byte, error)
}

// Member is this server as a node of the cluster: it keeps its lease
// alive and marks lost the nodes whose lease ran out.
type Member struct {
	st    Store
	self  Node
	lease time.Duration
	log   *slog.Logger
	now   func() time.Time
	back  func(context.Context) // nil: none
}

// OnBack sets what is done when this node learns it had been taken for
// lost: adopt again the sandboxes recorded as failed that still run.
func (m *Member) OnBack(fn func(context.Context)) { m.back = fn }

// DefaultLease is how long a node is taken for alive after its last
// renewal. It renews three times in a lease.
const DefaultLease = 15 * time.Second

// NewMember returns self as a node of the cluster in st. lease 0 takes
// DefaultLease.
func NewMember(st Store, self Node, lease time.Duration, log *slog.Logger) *Member {
	if lease <= 0 {
		lease = DefaultLease
	}
	if self.State == "" {
		self.State = Ready
	}
	return &Member{st: st, self: self, lease: lease, log: log.With("component", "cluster", "node", self.Name), now: time.Now}
}

// Name is this node's.
func (m *Member) Name() string { return m.self.Name }

// Join registers this node, with a fresh lease.
func (m *Member) Join(ctx context.Context) error {
	now := m.now().UTC()
	m.self.StartedAt, m.self.Heartbeat, m.self.LeaseEnd = now, now, now.Add(m.lease)
	if err := m.st.RegisterNode(ctx, m.self); err != nil {
		return fmt.Errorf("joining the cluster: %w", err)
	}
	m.log.Info("joined the cluster", "api", m.self.APIURL, "slots", m.self.Slots, "templates", m.self.Templates)
	return nil
}

// Run renews the lease and looks for lost nodes, three times a lease,
// until ctx ends. A database that cannot be reached is retried; if it
// stays away for a lease, the other nodes take this one for lost.
func (m *Member) Run(ctx context.Context) {
	tick := time.NewTicker(m.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m.beat(ctx)
	}
}

// beat renews the lease once and marks the nodes lost whose lease ran out.
func (m *Member) beat(ctx context.Context) {
	now := m.now().UTC()
	wasLost, err := m.st.RenewLease(ctx, m.self.Name, now, now.Add(m.lease))
	if err != nil {
		m.log.Warn("renewing this node's lease", "err", err)
		return
	}
	if wasLost {
		m.log.Error("this node had been taken for lost (it could not renew its lease in time); adopting back the sandboxes that still run")
		if m.back != nil {
			m.back(ctx)
		}
	}
	lost, err := m.st.MarkLost(ctx, now)
	if err != nil {
		m.log.Warn("looking for lost nodes", "err", err)
		return
	}
	for _, name := range lost {
		why := fmt.Sprintf("%s: node %s stopped renewing its lease (last seen before %s)", sandbox.ReasonNodeLost, name, now.Add(-m.lease).Format(time.RFC3339))
		n, err := m.st.FailSandboxes(ctx, name, why)
		if err != nil {
			m.log.Error("recording the sandboxes of a lost node", "lost", name, "err", err)
			continue
		}
		m.log.Warn("node lost: its running sandboxes are recorded as failed, its paused ones are kept", "lost", name, "failed", n)
	}
}

// Nodes lists the cluster's nodes.
func (m *Member) Nodes(ctx context.Context) ([]Node, error) { return m.st.Nodes(ctx) }

// Place picks the node a new sandbox of template goes to (see Place).
func (m *Member) Place(ctx context.Context, template string) (Node, error) {
	nodes, err := m.st.Nodes(ctx)
	if err != nil {
		return Node{}, err
	}
	return Place(nodes, m.self.Name, template, m.now())
}
