package integration

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// startNodes starts the nodes named as servers of one cluster on a fresh
// PostgreSQL database, each with its own bridge and subnet.
func startNodes(t *testing.T, lease string, names ...string) []*server {
	url := pgtest.Start(t).NewDatabase(t)
	var nodes []*server
	for _, n := range names {
		nodes = append(nodes, startServer(t, "--cluster", url, "--node-name", n, "--node-lease", lease))
	}
	return nodes
}

// Three nodes on one PostgreSQL: a create through a lands on the node
// placement picks (c, with a and b cordoned; then the least loaded), and
// exec and files work through every node; another team's key finds
// nothing on any node; a SIGKILLed node is lost within its lease, its
// sandbox reported failed, and adopted back when it returns.
func TestClusterThreeNodes(t *testing.T) {
	nodes := startNodes(t, "3s", "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx := ctxT(t, 5*time.Minute)
	list, err := a.client().Nodes(ctx)
	if err != nil || len(list) != 3 || !list[0].Self || list[1].Self || list[2].State != "ready" || list[0].Slots != 1000 {
		t.Fatalf("nodes through a: %+v, %v", list, err)
	}
	for _, n := range []string{"a", "b"} {
		if got, err := b.client().SetNodeState(ctx, n, "cordoned"); err != nil || got.State != "cordoned" {
			t.Fatalf("cordoning %s: %+v %v", n, got, err)
		}
	}
	seen := watchStates(t, b)
	sb := create(t, a, client.CreateRequest{Name: "placed"})
	if sb.Node != "c" {
		t.Fatalf("a create with a and b cordoned went to %q", sb.Node)
	}
	select {
	case id := <-seen:
		if id != sb.ID {
			t.Errorf("b's watch saw %s running, want %s", id, sb.ID)
		}
	case <-time.After(10 * time.Second):
		t.Error("b's team watch did not see a sandbox c started for a")
	}
	for _, via := range []*server{a, b, c} {
		res, err := via.client().Exec(ctx, "placed", client.ExecRequest{Cmd: []string{"hostname"}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exec through %s: %+v %v", via.addr, res, err)
		}
	}
	if _, err := b.client().Files("placed").Write(ctx, "/root/through-b", strings.NewReader("hello"), client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.client().Files("placed").Read(ctx, "/root/through-b"); err != nil || string(got) != "hello" {
		t.Fatalf("reading through a what b wrote: %q %v", got, err)
	}

	devURLs(t, a, b, c, sb)
	sshThroughNodes(t, a, b, sb)

	// Another team sees nothing, through any node.
	if _, err := a.client().CreateTeam(ctx, "others"); err != nil {
		t.Fatal(err)
	}
	key, err := a.client().CreateKey(ctx, client.CreateKeyRequest{Name: "k", Team: "others"})
	if err != nil {
		t.Fatal(err)
	}
	for _, via := range []*server{a, b, c} {
		if _, err := via.clientWithKey(key.Secret).Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"true"}}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team's exec through %s: %v", via.addr, err)
		}
	}

	// Uncordoned, creates spread: a and b have none, c one.
	for _, n := range []string{"a", "b"} {
		if _, err := a.client().SetNodeState(ctx, n, "ready"); err != nil {
			t.Fatal(err)
		}
	}
	first := create(t, a, client.CreateRequest{})
	second := create(t, a, client.CreateRequest{})
	if first.Node != "a" || second.Node != "b" {
		t.Errorf("two creates through a went to %s and %s, want a (a tie goes to the node asked) and b", first.Node, second.Node)
	}
	if _, err := a.client().SetNodeState(ctx, "z", "cordoned"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("cordoning an unknown node: %v", err)
	}

	lostAndBack(t, a, c, sb)
}

// devURLs serves a Node.js server in sb, which c runs, and reaches it
// through every node's proxy: with its access token, and a signed link a
// made (c signed it); without either, the owner refuses.
func devURLs(t *testing.T, a, b, c *server, sb *client.Sandbox) {
	startNode(t, a, sb, 3000, `require("http").createServer((q, r) => r.end("node " + q.url)).listen(3000)`)
	for _, via := range []*server{a, b, c} {
		u := via.devURL(sb, 3000) + "/hi"
		if resp, body := get(t, via.viaProxy(), u, map[string]string{"X-Runtools-Access-Token": sb.AccessToken}); resp.StatusCode != 200 || body != "node /hi" {
			t.Errorf("GET %s with the token: %d %q", u, resp.StatusCode, body)
		}
		if resp, _ := get(t, via.viaProxy(), u, nil); resp.StatusCode != 401 {
			t.Errorf("GET %s without a token: %d", u, resp.StatusCode)
		}
	}
	link, err := a.client().SignedLink(ctxT(t, time.Minute), sb.ID, 3000, 600)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(b.proxy)
	u, _ := url.Parse(link.URL)
	u.Host = u.Hostname() + ":" + port
	if resp, _ := get(t, b.viaProxy(), u.String(), nil); resp.StatusCode/100 != 2 && resp.StatusCode/100 != 3 {
		t.Errorf("a signed link through b: %d", resp.StatusCode)
	}
}

// sshThroughNodes logs in with OpenSSH to sb, which c runs, through a's
// and b's gateways: commands, exit codes and SFTP work.
func sshThroughNodes(t *testing.T, a, b *server, sb *client.Sandbox) {
	u := newSSHUser(t, a, "me")
	if _, err := a.client().AddSSHKey(ctxT(t, time.Minute), "me", u.pub); err != nil {
		t.Fatal(err)
	}
	for _, via := range []*server{a, b} {
		u.s = via
		if out, errOut, code := u.run("placed", "cat /root/through-b; exit 3"); out != "hello" || code != 3 {
			t.Errorf("ssh through %s: %q %q exit %d", via.addr, out, errOut, code)
		}
	}
	local := filepath.Join(t.TempDir(), "up")
	if err := os.WriteFile(local, []byte("by sftp"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.scp(false, local, u.remote(sb.ID, "/root/up"))
	if got, err := a.client().Files(sb.ID).Read(ctxT(t, time.Minute), "/root/up"); err != nil || string(got) != "by sftp" {
		t.Errorf("a file sent with scp through b: %q %v", got, err)
	}
}

// watchStates watches the admin team through s and sends the ID of each
// sandbox that comes to run.
func watchStates(t *testing.T, s *server) <-chan string {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	seen := make(chan string, 16)
	go s.client().WatchTeam(ctx, client.WatchOptions{NoMetrics: true}, func(ev client.WatchEvent) error {
		if ev.Status != nil && ev.Status.State == "running" {
			seen <- ev.Status.SandboxID
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // it is listening
	return seen
}

// lostAndBack SIGKILLs node c, which runs sb: within its lease, a reports
// it lost and sb failed; restarted, c adopts sb back.
func lostAndBack(t *testing.T, a, c *server, sb *client.Sandbox) {
	ctx := ctxT(t, 3*time.Minute)
	c.kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := a.client().Get(ctx, sb.ID)
		if err == nil && got.State == "error" && strings.HasPrefix(got.StopReason, "node lost") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after c was killed: %+v %v", got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	list, _ := a.client().Nodes(ctx)
	if list[2].State != "lost" || list[2].LostAt.IsZero() {
		t.Errorf("c after a kill: %+v", list[2])
	}
	if _, err := a.client().Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"true"}}); !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "lost") {
		t.Errorf("exec in a lost node's sandbox: %v", err)
	}
	c.start()
	got, err := a.client().Get(ctx, sb.ID)
	if err != nil || got.State != "running" {
		t.Fatalf("after c came back: %+v %v", got, err)
	}
	res, err := a.client().Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"cat", "/root/through-b"}})
	if err != nil || string(res.Stdout) != "hello" {
		t.Errorf("after c came back: %+v %v", res, err)
	}
}
