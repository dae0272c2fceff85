package integration

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// teamClient makes a team of s and returns a client with a key of it.
func teamClient(t *testing.T, s *server, team string) *client.Client {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if _, err := s.client().CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	key, err := s.client().CreateKey(ctx, client.CreateKeyRequest{Name: "k", Team: team})
	if err != nil {
		t.Fatal(err)
	}
	return s.clientWithKey(key.Secret)
}

// createWith is create with another team's client.
func createWith(t *testing.T, c *client.Client, req client.CreateRequest) *client.Sandbox {
	t.Helper()
	sb, err := c.Create(ctxT(t, 2*time.Minute), req)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = c.Destroy(context.Background(), sb.ID) })
	return sb
}

// serveHTTP starts a web server on port 8000 in sb and waits for it.
func serveHTTP(t *testing.T, sb *client.Sandbox) {
	t.Helper()
	sh(t, sb, "cd /tmp && echo hello-from-"+sb.Name+" > index.html && (nohup python3 -m http.server 8000 >/dev/null 2>&1 &)")
	if res := sh(t, sb, "for i in $(seq 50); do curl -sf -m 1 http://127.0.0.1:8000/ && exit 0; sleep 0.1; done; exit 1"); res.ExitCode != 0 {
		t.Fatalf("%s's server did not come up", sb.Name)
	}
}

// fetch reports what curl got from url in sb ("" if it failed).
func fetch(t *testing.T, sb *client.Sandbox, curlArgs string) string {
	t.Helper()
	res := sh(t, sb, "curl -sf -m 3 "+curlArgs)
	if res.ExitCode != 0 {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// TestTeamNetwork: a team's sandboxes reach each other by IP and by
// NAME.internal; another team's reach neither them nor their names, and
// no sandbox reaches another's agent.
func TestTeamNetwork(t *testing.T) {
	s := startServer(t)
	a := create(t, s, client.CreateRequest{Name: "a"})
	b := create(t, s, client.CreateRequest{Name: "b"})
	r := createWith(t, teamClient(t, s, "rivals"), client.CreateRequest{Name: "r"})
	serveHTTP(t, b)
	serveHTTP(t, r)
	if fw := readFirewall(t, s); len(fw.teamIPs) != 3 || len(fw.ports) != 3 || len(fw.chains) != 0 {
		t.Errorf("firewall holds %+v, want three sandboxes without egress chains", fw)
	}

	for _, target := range []string{b.IP, "b.internal", b.ID + ".internal"} {
		if got := fetch(t, a, "http://"+target+":8000/"); got != "hello-from-b" {
			t.Errorf("a → %s: got %q, want b's page", target, got)
		}
	}
	if res := sh(t, a, "getent hosts b.internal"); !strings.HasPrefix(string(res.Stdout), b.IP+" ") {
		t.Errorf("b.internal resolves to %q, want %s", res.Stdout, b.IP)
	}
	if got := fetch(t, a, "http://"+b.IP+":49983/health"); got != "" {
		t.Errorf("a reached b's agent: %q", got)
	}
	// Across teams: nothing, either way, by IP or by name.
	if got := fetch(t, a, "http://"+r.IP+":8000/"); got != "" {
		t.Errorf("a reached the rival team's sandbox: %q", got)
	}
	if got := fetch(t, r, "http://"+b.IP+":8000/"); got != "" {
		t.Errorf("the rival team's sandbox reached b: %q", got)
	}
	for _, name := range []string{"b.internal", b.ID + ".internal"} {
		if res := sh(t, r, "getent hosts "+name); res.ExitCode == 0 {
			t.Errorf("the rival team resolved %s: %s", name, res.Stdout)
		}
	}
	if res := sh(t, a, "getent hosts r.internal"); res.ExitCode == 0 {
		t.Errorf("a resolved the rival's r.internal: %s", res.Stdout)
	}
}

// TestEgressPolicy: deny-all, allow lists of domains, deny lists, a
// domain allowed but resolving to a denied address, the fixed deny list,
// live changes, and the policy surviving a daemon kill.
func TestEgressPolicy(t *testing.T) {
	s := startServer(t)
	mirror := mirrorURL(t)
	u, err := url.Parse(mirror)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Hostname()
	sb := create(t, s, client.CreateRequest{Name: "locked", Egress: &client.Egress{Default: "deny"}})
	peer := create(t, s, client.CreateRequest{Name: "peer"})
	serveHTTP(t, peer)
	ctx := ctxT(t, 5*time.Minute)
	reach := func() bool {
		res := sh(t, sb, "curl -s -m 5 -o /dev/null -w '%{http_code}' "+mirror)
		return res.ExitCode == 0 && strings.TrimSpace(string(res.Stdout)) != "000"
	}
	set := func(e client.Egress) {
		t.Helper()
		if err := sb.SetEgress(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	if fw := readFirewall(t, s); len(fw.chains) != 1 || fw.chains[0] != sb.ID {
		t.Errorf("firewall egress chains %v, want only %s's", fw.chains, sb.ID)
	}
	if sb.Egress.Default != "deny" {
		t.Errorf("created with egress %+v", sb.Egress)
	}
	if reach() {
		t.Errorf("deny all: reached %s", mirror)
	}
	if res := sh(t, sb, "getent hosts "+host); res.ExitCode == 0 {
		t.Errorf("deny all: resolved %s (lookups must not leave either)", host)
	}
	if got := fetch(t, sb, "http://peer.internal:8000/"); got != "hello-from-peer" {
		t.Errorf("deny all: the team's own sandbox is unreachable: %q", got)
	}

	set(client.Egress{Allow: []string{host}, Default: "deny"})
	if !reach() {
		t.Errorf("allow %s: unreachable", host)
	}
	set(client.Egress{Allow: []string{"example.invalid"}, Default: "deny"})
	if reach() {
		t.Errorf("allow another domain only: reached %s", host)
	}

	set(client.Egress{Deny: []string{host}})
	if reach() {
		t.Errorf("deny %s: reached it", host)
	}
	if res := sh(t, sb, "getent hosts "+host); res.ExitCode == 0 {
		t.Errorf("deny %s: it still resolves: %s", host, res.Stdout)
	}

	// Allowed by name, denied by address: the address wins.
	set(client.Egress{Default: "deny", Allow: []string{host}})
	res := sh(t, sb, "getent ahostsv4 "+host+" | head -1 | cut -d' ' -f1")
	ip := strings.TrimSpace(string(res.Stdout))
	if ip == "" {
		t.Fatalf("allowed %s does not resolve: %s", host, res.Stderr)
	}
	pinned := func() bool { // curl at the address just resolved
		res := sh(t, sb, "curl -s -m 5 -o /dev/null -w '%{http_code}' --resolve "+host+":80:"+ip+" "+mirror)
		return res.ExitCode == 0 && strings.TrimSpace(string(res.Stdout)) != "000"
	}
	if !pinned() {
		t.Fatalf("allowed %s at %s: unreachable", host, ip)
	}
	set(client.Egress{Default: "deny", Allow: []string{host}, Deny: []string{ip + "/32"}})
	sh(t, sb, "getent hosts "+host)
	if pinned() {
		t.Errorf("%s resolves to denied %s, yet was reached", host, ip)
	}

	// No allow rule lifts the fixed deny list.
	set(client.Egress{Default: "deny", Allow: []string{"169.254.0.0/16", s.gateway() + "/32"}})
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://" + s.gateway() + ":1/"} {
		if got := fetch(t, sb, target); got != "" {
			t.Errorf("reached %s: %q", target, got)
		}
	}

	// Bad rules are refused, and the policy stays.
	if err := sb.SetEgress(ctx, client.Egress{Allow: []string{"not a domain"}}); err == nil {
		t.Errorf("a bad rule was accepted")
	}

	// The policy outlives a daemon kill.
	set(client.Egress{Default: "deny"})
	s.kill()
	s.start()
	if got, err := s.client().Get(ctx, sb.ID); err != nil || got.Egress.Default != "deny" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if reach() {
		t.Errorf("after a daemon kill: deny all no longer holds")
	}
	// A fork keeps its parent's policy.
	fork, err := s.client().Fork(ctx, sb.ID, client.ForkRequest{Name: "locked-fork"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.client().Destroy(context.Background(), fork.ID) })
	if fork.Egress.Default != "deny" {
		t.Errorf("fork's egress %+v, want its parent's", fork.Egress)
	}
	if res := sh(t, fork, "curl -s -m 5 -o /dev/null "+mirror); res.ExitCode == 0 {
		t.Errorf("the fork of a deny-all sandbox reached %s", mirror)
	}

	set(client.Egress{Default: "allow"})
	if !reach() {
		t.Errorf("back to allow all: unreachable")
	}
}
