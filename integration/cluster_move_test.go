package integration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/objstore/s3test"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// startNodesWithStore starts the nodes named as one cluster on a fresh
// PostgreSQL database and a fresh S3 server.
func startNodesWithStore(t *testing.T, names ...string) []*server {
	url := pgtest.Start(t).NewDatabase(t)
	s3 := s3test.Start(t).URL("runtools")
	var nodes []*server
	for _, n := range names {
		nodes = append(nodes, startServer(t, "--cluster", url, "--object-store", s3, "--node-name", n, "--node-lease", "3s"))
	}
	return nodes
}

// A drain moves a running sandbox, with its memory: a Node.js server in it
// answers again on another node, through any node's URL, and its files and
// name stay while its address changes. A paused sandbox of a SIGKILLed
// node resumes on another node.
func TestClusterMoves(t *testing.T) {
	nodes := startNodesWithStore(t, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx := ctxT(t, 10*time.Minute)
	onlyOn(t, a, "c", "a", "b", "c")
	sb := create(t, a, client.CreateRequest{Name: "mover"})
	if sh(t, sb, "echo kept > /root/f").ExitCode != 0 || sb.Node != "c" {
		t.Fatalf("set up: %+v", sb)
	}
	startNode(t, a, sb, 3000, `let n = 0; require("http").createServer((q, r) => r.end("count " + (++n))).listen(3000)`)
	hdr := map[string]string{"X-Runtools-Access-Token": sb.AccessToken}
	if _, body := get(t, b.viaProxy(), b.devURL(sb, 3000), hdr); body != "count 1" {
		t.Fatalf("before the drain: %q", body)
	}
	onlyOn(t, a, "a", "a", "b", "c") // c drains into a
	var evs []client.DrainEvent
	sum, err := a.client().Drain(ctx, "c", func(ev client.DrainEvent) { evs = append(evs, ev) })
	if err != nil || sum.Moved != 1 || sum.Failed != 0 || len(evs) != 1 || evs[0].To != "a" || evs[0].AwayMS <= 0 {
		t.Fatalf("drain: %+v %+v %v", sum, evs, err)
	}
	t.Logf("the sandbox was away %d ms", evs[0].AwayMS)
	got, err := b.client().Get(ctx, "mover")
	if err != nil || got.Node != "a" || got.State != "running" || got.IP == sb.IP {
		t.Fatalf("after the drain: %+v %v", got, err)
	}
	if _, body := get(t, b.viaProxy(), b.devURL(sb, 3000), hdr); body != "count 2" {
		t.Errorf("the Node.js server after the drain: %q, want its memory (count 2)", body)
	}
	if res := sh(t, sb, "cat /root/f"); string(res.Stdout) != "kept\n" {
		t.Errorf("a file after the drain: %+v", res)
	}
	list, _ := a.client().Nodes(ctx)
	if list[2].State != "draining" {
		t.Errorf("c after its drain: %s", list[2].State)
	}
	resumeFromLostNode(t, a, b, c)
}

// resumeFromLostNode pauses a sandbox on b, SIGKILLs b, and resumes the
// sandbox through a: it moves.
func resumeFromLostNode(t *testing.T, a, b, c *server) {
	ctx := ctxT(t, 5*time.Minute)
	onlyOn(t, a, "b", "a", "b", "c")
	sb := create(t, a, client.CreateRequest{Name: "parked"})
	sh(t, sb, "echo parked > /root/g")
	if _, err := a.client().Pause(ctx, "parked"); err != nil {
		t.Fatal(err)
	}
	waitLog(t, b, "stored the pause image", time.Minute)
	b.kill()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := a.client().Exec(ctx, "parked", client.ExecRequest{Cmd: []string{"true"}})
		if errors.Is(err, client.ErrUnavailable) && strings.Contains(err.Error(), "lost") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b was not lost: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	onlyOn(t, a, "a", "a", "c")
	got, err := a.client().Resume(ctx, "parked")
	if err != nil || got.State != "running" || got.Node != "a" {
		t.Fatalf("resuming a lost node's paused sandbox: %+v %v", got, err)
	}
	if res := sh(t, sb, "cat /root/g"); string(res.Stdout) != "parked\n" {
		t.Errorf("its file: %+v", res)
	}
	b.start() // its stale copy is removed as an orphan
}

// onlyOn makes node the only one of names that takes new sandboxes.
func onlyOn(t *testing.T, via *server, node string, names ...string) {
	t.Helper()
	for _, n := range names {
		state := "cordoned"
		if n == node {
			state = "ready"
		}
		if _, err := via.client().SetNodeState(ctxT(t, time.Minute), n, state); err != nil {
			t.Fatal(err)
		}
	}
}

// waitLog waits until s's log says what.
func waitLog(t *testing.T, s *server, what string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(s.logs(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not log %q in %s", what, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
