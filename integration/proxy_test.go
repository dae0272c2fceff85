package integration

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// proxyServer starts a server with its dev-server proxy (every test server has one).
func proxyServer(t *testing.T) *server { return startServer(t) }

// viaProxy is an HTTP client that sends every request to the server's
// proxy, whatever the URL's host ({port}-{id}.sandboxes.localhost).
func (s *server) viaProxy() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.proxy)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *server) devURL(sb *client.Sandbox, port int) string {
	_, p, _ := net.SplitHostPort(s.proxy)
	return fmt.Sprintf("http://%d-%s.sandboxes.localhost:%s", port, sb.ID, p)
}

func get(t *testing.T, c *http.Client, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// startNode runs a Node.js program in the background in sb and waits until
// port answers inside the sandbox.
func startNode(t *testing.T, s *server, sb *client.Sandbox, port int, js string) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"node", "-e", js}}); err != nil {
		t.Fatal(err)
	}
	waitListening(t, sb, port)
}

func waitListening(t *testing.T, sb *client.Sandbox, port int) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		res := sh(t, sb, fmt.Sprintf("curl -s -o /dev/null -m 1 -w '%%{http_code}' http://127.0.0.1:%d/", port))
		if code := strings.TrimSpace(string(res.Stdout)); code != "" && code != "000" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

const echoServer = `require("http").createServer((q,r)=>{
  if (q.url==="/sse") { r.writeHead(200,{"content-type":"text/event-stream"}); let i=0;
    const t=setInterval(()=>{ r.write("data: "+(i++)+"\n\n"); if(i==3){clearInterval(t); r.end()} },300); return }
  if (q.url==="/big") { r.writeHead(200,{"content-length":String(100<<20)}); const b=Buffer.alloc(1<<20,120); let n=0;
    const w=()=>{ while(n<100){ n++; if(!r.write(b)) return r.once("drain",w) } r.end() }; return w() }
  r.end(JSON.stringify({host:q.headers.host, xff:q.headers["x-forwarded-for"]||"", xfh:q.headers["x-forwarded-host"]||"", token:q.headers["x-runtools-access-token"]||"", cookie:q.headers.cookie||""}))
}).listen(3000)`

func TestProxy(t *testing.T) {
	s := proxyServer(t)
	c := s.client()
	ctx := ctxT(t, 3*time.Minute)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	other := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	startNode(t, s, sb, 3000, echoServer)
	hc := s.viaProxy()
	u := s.devURL(sb, 3000)

	// Private by default: no token, no entry.
	if resp, _ := get(t, hc, u, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := get(t, hc, u, map[string]string{"X-Runtools-Access-Token": other.AccessToken}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another sandbox's token: %d", resp.StatusCode)
	}
	resp, body := get(t, hc, u, map[string]string{"X-Runtools-Access-Token": sb.AccessToken, "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil"})
	if resp.StatusCode != 200 {
		t.Fatalf("with token: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"host":"localhost:3000"`) || strings.Contains(body, "6.6.6.6") || strings.Contains(body, "evil") || strings.Contains(body, sb.AccessToken) {
		t.Errorf("what the dev server saw: %s", body)
	}
	// A signed link sets a cookie that opens only this sandbox.
	link, err := c.SignedLink(ctx, sb.ID, 3000, 60)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = get(t, hc, link.URL, nil)
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusFound || cookie == "" {
		t.Fatalf("signed link: %d %q", resp.StatusCode, cookie)
	}
	ck := strings.SplitN(cookie, ";", 2)[0]
	if resp, body := get(t, hc, u, map[string]string{"Cookie": ck}); resp.StatusCode != 200 || strings.Contains(body, ck) {
		t.Errorf("with the link's cookie: %d %s", resp.StatusCode, body)
	}
	startNode(t, s, other, 3000, echoServer)
	if resp, _ := get(t, hc, s.devURL(other, 3000), map[string]string{"Cookie": ck}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("one sandbox's cookie opened another: %d", resp.StatusCode)
	}
	// Public.
	if _, err := c.SetPublic(ctx, sb.ID, true); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, hc, u, nil); resp.StatusCode != 200 {
		t.Errorf("public: %d", resp.StatusCode)
	}
	// The agent port never, whatever the request looks like; unexposed ports neither.
	for _, bad := range []string{s.devURL(sb, 49983), s.devURL(sb, 4000), strings.Replace(u, "3000-", "03000-", 1)} {
		if resp, _ := get(t, hc, bad, map[string]string{"X-Runtools-Access-Token": sb.AccessToken}); resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: %d, want a 4xx", bad, resp.StatusCode)
		}
	}
	if _, err := c.Expose(ctx, sb.ID, 49983); err == nil {
		t.Error("exposing the agent port succeeded")
	}
	// Exposed ports, and a port with nothing listening.
	if _, err := c.Expose(ctx, sb.ID, 4000); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, hc, s.devURL(sb, 4000), nil); resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "4000") {
		t.Errorf("nothing listening: %d %s", resp.StatusCode, body)
	}
	// Unknown sandbox, malformed hosts.
	for host, want := range map[string]int{"3000-sandbox-nosuchsandbox.sandboxes.localhost": 404, "abc-def.sandboxes.localhost": 400, "sandboxes.localhost": 404} {
		req, _ := http.NewRequest("GET", "http://"+host+"/", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	// SSE arrives live.
	req, _ := http.NewRequest("GET", u+"/sse", nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	var stamps []time.Time
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			break
		}
		if strings.HasPrefix(line, "data:") {
			stamps = append(stamps, time.Now())
		}
	}
	resp.Body.Close()
	if len(stamps) != 3 || stamps[2].Sub(stamps[0]) < 400*time.Millisecond {
		t.Errorf("SSE: %d events over %v", len(stamps), stamps)
	}
	// 100 MB streams through without the daemon's memory growing with it.
	before := daemonRSS(t, s)
	req, _ = http.NewRequest("GET", u+"/big", nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	after := daemonRSS(t, s)
	if n != 100<<20 {
		t.Errorf("downloaded %d bytes", n)
	}
	if after-before > 40<<20 {
		t.Errorf("daemon memory grew by %d MB for a 100 MB download", (after-before)>>20)
	}
	t.Logf("100 MB download: daemon RSS %d -> %d MB", before>>20, after>>20)
}

// daemonRSS reads the server process's resident memory.
func daemonRSS(t *testing.T, s *server) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// wsHandshake opens a websocket through the proxy and returns the
// connection after a 101 answer.
func wsHandshake(t *testing.T, s *server, rawURL, protocol string, hdr map[string]string) net.Conn {
	t.Helper()
	u, _ := url.Parse(rawURL)
	conn, err := net.Dial("tcp", s.proxy)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 16)
	rand.Read(key)
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n", u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key))
	if protocol != "" {
		req += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	for k, v := range hdr {
		req += k + ": " + v + "\r\n"
	}
	conn.Write([]byte(req + "\r\n"))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if !strings.Contains(status, "101") {
		rest, _ := io.ReadAll(io.LimitReader(br, 2000))
		t.Fatalf("websocket handshake: %q %s", status, rest)
	}
	for {
		line, _ := br.ReadString('\n')
		if line == "\r\n" || line == "" {
			break
		}
	}
	return &bufConn{Conn: conn, r: br}
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestProxyWebsocket: a websocket echo (Bun's built-in server) through the proxy.
func TestProxyWebsocket(t *testing.T) {
	s := proxyServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0), Public: true})
	js := `Bun.serve({port:8000, fetch(req,srv){ if(srv.upgrade(req)) return; return new Response("no ws") }, websocket:{message(ws,m){ ws.send("echo:"+m) }}})`
	if _, err := s.client().Start(ctxT(t, time.Minute), sb.ID, client.ExecRequest{Cmd: []string{"bun", "-e", js}}); err != nil {
		t.Fatal(err)
	}
	waitListening(t, sb, 8000)
	conn := wsHandshake(t, s, s.devURL(sb, 8000)+"/", "", nil)
	defer conn.Close()
	// A masked text frame "hi".
	mask := []byte{1, 2, 3, 4}
	payload := []byte("hi")
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	conn.Write(frame)
	head := make([]byte, 2)
	io.ReadFull(conn, head)
	msg := make([]byte, head[1]&0x7f)
	io.ReadFull(conn, msg)
	if string(msg) != "echo:hi" {
		t.Errorf("websocket echo: %q", msg)
	}
}

// TestProxyVite: a real Vite dev server made with npm create vite, fetched
// through the proxy, with its HMR websocket connecting.
func TestProxyVite(t *testing.T) {
	s := proxyServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0), MemoryMB: 2048})
	res := sh(t, sb, "cd /root && npm create -y vite@latest app -- --template vanilla </dev/null >/tmp/create.log 2>&1; cd app && npm install >/tmp/install.log 2>&1; echo rc=$?; ls")
	if !strings.Contains(string(res.Stdout), "rc=0") || !strings.Contains(string(res.Stdout), "package.json") {
		log := sh(t, sb, "tail -20 /tmp/create.log /tmp/install.log")
		t.Fatalf("creating the vite app: %s\n%s", res.Stdout, log.Stdout)
	}
	if _, err := s.client().Start(ctxT(t, time.Minute), sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", "cd /root/app && exec npx vite --host 0.0.0.0 --port 5173"}}); err != nil {
		t.Fatal(err)
	}
	waitListening(t, sb, 5173)
	hc := s.viaProxy()
	tok := map[string]string{"X-Runtools-Access-Token": sb.AccessToken}
	u := s.devURL(sb, 5173)
	resp, body := get(t, hc, u+"/", tok)
	if resp.StatusCode != 200 || !strings.Contains(body, "/@vite/client") {
		t.Fatalf("vite index through the proxy: %d %.300s", resp.StatusCode, body)
	}
	resp, body = get(t, hc, u+"/@vite/client", tok)
	if resp.StatusCode != 200 {
		t.Fatalf("/@vite/client: %d", resp.StatusCode)
	}
	wsToken := ""
	if m := regexp.MustCompile(`const wsToken = "([^"]+)"`).FindStringSubmatch(body); m != nil {
		wsToken = m[1]
	}
	conn := wsHandshake(t, s, u+"/?token="+url.QueryEscape(wsToken), "vite-hmr", tok)
	defer conn.Close()
	// Vite greets a new HMR client with {"type":"connected"}.
	head := make([]byte, 2)
	if _, err := io.ReadFull(conn, head); err != nil {
		t.Fatalf("reading the HMR greeting: %v", err)
	}
	msg := make([]byte, head[1]&0x7f)
	io.ReadFull(conn, msg)
	if !strings.Contains(string(msg), "connected") {
		t.Errorf("HMR greeting: %q", msg)
	}
}

// TestProxyWakes: a dev-server request wakes a paused sandbox (only if it
// may go through), and an open proxied connection keeps it from being paused.
func TestProxyWakes(t *testing.T) {
	s := proxyServer(t)
	c := s.client()
	ctx := ctxT(t, 3*time.Minute)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	startNode(t, s, sb, 3000, echoServer)
	if _, err := c.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	hc := s.viaProxy()
	u := s.devURL(sb, 3000)
	if resp, _ := get(t, hc, u, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if got, _ := c.Get(ctx, sb.ID); got.State != "paused" {
		t.Errorf("a request without access woke the sandbox: %s", got.State)
	}
	start := time.Now()
	resp, body := get(t, hc, u, map[string]string{"X-Runtools-Access-Token": sb.AccessToken})
	if resp.StatusCode != 200 || !strings.Contains(body, "localhost:3000") {
		t.Fatalf("request to a paused sandbox: %d %s", resp.StatusCode, body)
	}
	t.Logf("woken by a dev-server request in %v", time.Since(start))
	if got, _ := c.Get(ctx, sb.ID); got.State != "running" {
		t.Errorf("after the request: %s", got.State)
	}
	// An open SSE stream is activity: a 2 s idle timeout does not pause it.
	if _, err := c.SetIdleTimeout(ctx, sb.ID, 2); err != nil {
		t.Fatal(err)
	}
	js := `require("http").createServer((q,r)=>{ r.writeHead(200,{"content-type":"text/event-stream"}); r.write(": hello\n\n"); setInterval(()=>r.write(": ping\n\n"),60000) }).listen(3001)`
	startNode(t, s, sb, 3001, js)
	req, _ := http.NewRequest("GET", s.devURL(sb, 3001), nil)
	req.Header.Set("X-Runtools-Access-Token", sb.AccessToken)
	stream, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if got, _ := c.Get(ctx, sb.ID); got.State != "running" {
		t.Errorf("paused with a stream open: %s", got.State)
	}
	stream.Body.Close()
	waitState(t, s, sb.ID, "paused", 15*time.Second)
}
