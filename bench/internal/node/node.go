// Package node runs the Node.js HTTP server that the pause, snapshot and
// proxy measurements put in a sandbox, and proves after each restore that
// it still answers.
package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bin is Node.js in the base template.
const Bin = "/usr/local/bin/node"

// Port is where the Node.js server listens.
const Port = 3000

// QuiesceTime is how long the bench waits after its last request before a
// raw checkpoint, so the sandbox sees the connection closed; the daemon
// waits as long for its own connections (internal/sandbox quiesce).
const QuiesceTime = 20 * time.Millisecond

// Args is the process that runs the server. With holdMB > 0 it first
// fills a Buffer of that many MiB with random data (incompressible, and
// every page touched) and keeps it; the server answers with the Buffer's
// length, so an answer also shows that it is the process that was saved.
func Args(holdMB int) []string {
	js := fmt.Sprintf(`const b=Buffer.alloc(%d*1048576);require("crypto").randomFillSync(b);globalThis.held=b;`+
		`require("http").createServer((q,r)=>r.end(String(held.length))).listen(%d)`, holdMB, Port)
	return []string{Bin, "-e", js}
}

// probeClient makes one connection per request and closes it: a TCP
// connection still open when gVisor is checkpointed can leave the
// restored network stack deaf, so none may outlive its request.
var probeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}

// Get asks the server at ip once and checks its answer.
func Get(ctx context.Context, ip string, holdMB int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:%d/", ip, Port), nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", ip, err)
	}
	if want := strconv.Itoa(holdMB << 20); resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
		return fmt.Errorf("the server at %s answered %s %q, want 200 %q", ip, resp.Status, body, want)
	}
	return nil
}

// Wait asks the server at ip until it answers, for up to within, and
// returns how long that took.
func Wait(ctx context.Context, ip string, holdMB int, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		actx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := Get(actx, ip, holdMB)
		cancel()
		if err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > within {
			return 0, fmt.Errorf("the Node.js server at %s did not answer within %s: %w", ip, within, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
