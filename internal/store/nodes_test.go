package store

import (
	"errors"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

func TestNodes(t *testing.T) { eachBackend(t, testNodes) }

// Nodes register and renew their leases; one whose lease ran out is
// marked lost once, its running sandboxes fail with events and its paused
// ones stay; a cordon outlives a restart; addresses are per node.
func testNodes(t *testing.T, tdb testDB) {
	ctx := t.Context()
	s := withTeams(t, tdb)
	now := time.Now().UTC()
	for _, name := range []string{"n1", "n2"} {
		n := cluster.Node{Name: name, APIURL: "http://" + name + ":7070", Slots: 10, Templates: []string{"base"},
			StartedAt: now, Heartbeat: now, LeaseEnd: now.Add(15 * time.Second)}
		if err := s.RegisterNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	// The same address on two nodes; paused and running on n2.
	running, paused, here := newSandbox("team-a", "r", "10.0.0.2"), newSandbox("team-a", "p", "10.0.0.3"), newSandbox("team-a", "h", "10.0.0.2")
	running.Node, paused.Node, here.Node = "n2", "n2", "n1"
	for _, sb := range []*sandbox.Sandbox{running, paused, here} {
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	running.State, paused.State, here.State = sandbox.Running, sandbox.Paused, sandbox.Running
	for _, sb := range []*sandbox.Sandbox{running, paused, here} {
		if err := s.UpdateSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetNodeState(ctx, "n2", cluster.Cordoned); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNodeState(ctx, "n9", cluster.Cordoned); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("cordoning an unknown node: %v", err)
	}
	nodes, err := s.Nodes(ctx)
	if err != nil || len(nodes) != 2 || nodes[1].State != cluster.Cordoned || nodes[1].Sandboxes != 1 || nodes[0].Sandboxes != 1 || nodes[0].Templates[0] != "base" {
		t.Fatalf("nodes: %+v, %v", nodes, err)
	}
	if ips, _ := s.LiveIPs(ctx, "n2"); len(ips) != 2 {
		t.Errorf("n2's addresses: %v", ips)
	}

	// n1 renews; n2 does not: 20 s on, n2 is lost, marked by one caller.
	later := now.Add(20 * time.Second)
	if lost, err := s.RenewLease(ctx, "n1", later, later.Add(15*time.Second)); err != nil || lost {
		t.Fatalf("renewing: %v %v", lost, err)
	}
	if lost, err := s.MarkLost(ctx, later); err != nil || len(lost) != 1 || lost[0] != "n2" {
		t.Fatalf("marking lost: %v %v", lost, err)
	}
	if lost, _ := s.MarkLost(ctx, later); len(lost) != 0 {
		t.Errorf("marked lost twice: %v", lost)
	}
	if n, err := s.FailSandboxes(ctx, "n2", "node lost: test"); err != nil || n != 1 {
		t.Fatalf("failing n2's sandboxes: %d %v", n, err)
	}
	got, _ := s.GetSandbox(ctx, running.ID)
	evs, _ := s.Events(ctx, running.ID)
	if got.State != sandbox.Error || got.StopReason != "node lost: test" || evs[len(evs)-1].Why != "node lost: test" {
		t.Errorf("a running sandbox of a lost node: %+v, %+v", got, evs)
	}
	if got, _ := s.GetSandbox(ctx, paused.ID); got.State != sandbox.Paused {
		t.Errorf("a paused sandbox of a lost node: %+v", got)
	}

	// n2 comes back: it learns it was lost; its cordon stays.
	if lost, err := s.RenewLease(ctx, "n2", later, later.Add(15*time.Second)); err != nil || !lost {
		t.Errorf("n2 renewing after being lost: %v %v", lost, err)
	}
	if err := s.RegisterNode(ctx, cluster.Node{Name: "n2", APIURL: "http://n2:7070", Slots: 5}); err != nil {
		t.Fatal(err)
	}
	nodes, _ = s.Nodes(ctx)
	if nodes[1].State != cluster.Cordoned || !nodes[1].LostAt.IsZero() || nodes[1].Slots != 5 {
		t.Errorf("n2 after a restart: %+v", nodes[1])
	}
	a, _ := s.ClusterSecret(ctx)
	b, _ := s.ClusterSecret(ctx)
	if len(a) != 32 || string(a) != string(b) {
		t.Errorf("cluster secrets %x and %x", a, b)
	}
}
