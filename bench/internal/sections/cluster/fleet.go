package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/objstore/s3test"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// The nodes' names, bridges and subnets: apart from the bench's own
// server (rtbench0, 10.250/16), its raw runsc network (10.251/24), the
// template builder (10.252/24) and the integration tests (10.200-249).
var (
	nodeNames   = [3]string{"n1", "n2", "n3"}
	nodeBridges = [3]string{"rtbc1", "rtbc2", "rtbc3"}
	nodeSubnets = [3]string{"10.253.0.0/20", "10.253.16.0/20", "10.253.32.0/20"}
)

// lease is each node's --node-lease: the default, which the nodes keep
// renewing under the load of the creates at once.
const lease = "15s"

// node is one runtools server of the cluster.
type node struct {
	name string
	srv  *server.Server
}

// c is the Go SDK on the node's API.
func (n *node) c() *client.Client { return n.srv.Client }

// fleet is the cluster the section measures: a throwaway PostgreSQL and
// S3 server (SeaweedFS), and three nodes on this machine, each with its own
// data directory, bridge, subnet and ports, sharing one admin key.
type fleet struct {
	nodes []*node
	undo  host.Undo
}

// missing says what the cluster needs that this machine lacks, or "".
func missing() string {
	for _, p := range []string{filepath.Join(pgtest.BinDir, "postgres"), s3test.Weed} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s is missing (`make setup` installs PostgreSQL 15 and builds SeaweedFS with scripts/weed.sh)", p)
		}
	}
	for i, sub := range nodeSubnets {
		if err := host.CheckSubnetFree(netip.MustParsePrefix(sub), nodeBridges[i]); err != nil {
			return err.Error()
		}
	}
	return ""
}

// startFleet starts the cluster: PostgreSQL, the S3 server, then the
// nodes one after another, and waits until all are ready. What it made is
// on f.undo even on failure.
func startFleet(ctx context.Context, cfg Config, env *section.Env) (*fleet, error) {
	f := &fleet{}
	dir := filepath.Join(env.Systems.Dir, "cluster")
	if err := os.MkdirAll(filepath.Join(dir, "s3"), 0o755); err != nil {
		return f, err
	}
	pg, err := pgtest.New(ctx)
	if err != nil {
		return f, fmt.Errorf("starting PostgreSQL: %w", err)
	}
	f.undo.Push("stop PostgreSQL", func(context.Context) error { pg.Close(); return nil })
	db, err := pg.CreateDatabase(ctx, "runtools")
	if err != nil {
		return f, err
	}
	s3, err := s3test.New(ctx, filepath.Join(dir, "s3"))
	if err != nil {
		return f, err
	}
	f.undo.Push("stop the S3 server", func(context.Context) error { s3.Close(); return nil })
	key, err := server.NewKey()
	if err != nil {
		return f, err
	}
	for i, name := range nodeNames {
		scfg := server.Config{Binary: cfg.Binary, Runsc: env.Server.Runsc, TemplateDir: cfg.TemplateDir,
			Platform: env.Server.Platform, Bridge: nodeBridges[i], Subnet: nodeSubnets[i], Key: key,
			Extra: []string{"--cluster", db, "--object-store", s3.URL("runtools"), "--node-name", name, "--node-lease", lease}}
		srv, err := server.Start(ctx, scfg, filepath.Join(dir, name))
		if srv == nil {
			return f, fmt.Errorf("starting node %s: %w", name, err)
		}
		f.undo.Push("stop node "+name, srv.Stop)
		if err != nil {
			return f, fmt.Errorf("starting node %s: %w\n%s", name, err, host.LastLines(srv.Log(), 20))
		}
		f.nodes = append(f.nodes, &node{name: name, srv: srv})
	}
	return f, f.waitReady(ctx)
}

// waitReady waits until every node sees all three ready.
func (f *fleet) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for _, n := range f.nodes {
		for {
			list, err := n.c().Nodes(ctx)
			if err == nil && readyCount(list) == len(f.nodes) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s does not see %d ready nodes after a minute: %+v %v", n.name, len(f.nodes), list, err)
			}
			if err := measure.Sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// readyCount is how many of list are ready.
func readyCount(list []client.Node) int {
	n := 0
	for _, x := range list {
		if x.State == "ready" {
			n++
		}
	}
	return n
}

// byName is the node named name, or nil.
func (f *fleet) byName(name string) *node {
	for _, n := range f.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// other is the node after n, round the fleet.
func (f *fleet) other(n *node) *node {
	for i, x := range f.nodes {
		if x == n {
			return f.nodes[(i+1)%len(f.nodes)]
		}
	}
	return f.nodes[0]
}

// only makes n the only node that takes new sandboxes; nil makes all of
// them ready.
func (f *fleet) only(ctx context.Context, n *node) error {
	for _, x := range f.nodes {
		state := "ready"
		if n != nil && x != n {
			state = "cordoned"
		}
		if _, err := f.nodes[0].c().SetNodeState(ctx, x.name, state); err != nil {
			return fmt.Errorf("setting node %s %s: %w", x.name, state, err)
		}
	}
	return nil
}

// destroy destroys the sandbox id wherever it runs now, then deletes the
// host's neighbor entry for its address on its node's bridge (see
// server.Destroy).
func (f *fleet) destroy(ctx context.Context, id string) error {
	c := f.nodes[0].c()
	sb, err := c.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("looking up %s: %w", id, err)
	}
	if err := c.Destroy(ctx, id); err != nil {
		return fmt.Errorf("destroying %s: %w", id, err)
	}
	if n := f.byName(sb.Node); n != nil && sb.IP != "" {
		return n.srv.ForgetNeighbor(ctx, sb.IP)
	}
	return nil
}

// destroyAll destroys every sandbox of the cluster, four at a time.
func (f *fleet) destroyAll(ctx context.Context) error {
	list, err := f.nodes[0].c().List(ctx)
	if err != nil {
		return fmt.Errorf("listing the cluster's sandboxes: %w", err)
	}
	errs := make([]error, len(list))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, sb := range list {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f.destroy(ctx, sb.ID)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// close destroys the cluster's sandboxes and stops everything, newest
// first; it returns what is left on the host after.
func (f *fleet) close(ctx context.Context) ([]string, error) {
	var err error
	if len(f.nodes) > 0 {
		err = f.destroyAll(ctx)
	}
	if failed := f.undo.Run(); failed > 0 {
		err = errors.Join(err, fmt.Errorf("%d steps of stopping the cluster failed (see stderr)", failed))
	}
	return leaks(ctx), err
}

// leaks is what of the nodes' networks is still on the host: namespaces,
// interfaces (bridges and veths), firewall tables.
func leaks(ctx context.Context) []string {
	var out []string
	if entries, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range entries {
			if ownName(e.Name()) {
				out = append(out, "network namespace "+e.Name())
			}
		}
	}
	if ifcs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifcs {
			if ownName(ifc.Name) {
				out = append(out, "interface "+ifc.Name)
			}
		}
	}
	if tables, err := host.Command(ctx, "nft", "list", "tables"); err == nil {
		for _, b := range nodeBridges {
			if strings.Contains(tables, "runtools_"+b) {
				out = append(out, "nft tables runtools_"+b)
			}
		}
	}
	return out
}

// ownName reports whether an interface or namespace name is one of the
// nodes': a bridge, or a veth or namespace on one (bridge + "-").
func ownName(name string) bool {
	for _, b := range nodeBridges {
		if name == b || strings.HasPrefix(name, b+"-") {
			return true
		}
	}
	return false
}
