package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The pause, resume and snapshot measurements run a Node.js HTTP server in
// the sandbox, and prove after each restore that it still answers.

// nodeBin is Node.js in the base template.
const nodeBin = "/usr/local/bin/node"

// nodePort is where the Node.js server listens.
const nodePort = 3000

// nodeArgs is the process that runs the server. With holdMB > 0 it first
// fills a Buffer of that many MiB with random data (incompressible, and
// every page touched) and keeps it; the server answers with the Buffer's
// length, so an answer also shows that it is the process that was saved.
func nodeArgs(holdMB int) []string {
	js := fmt.Sprintf(`const b=Buffer.alloc(%d*1048576);require("crypto").randomFillSync(b);globalThis.held=b;`+
		`require("http").createServer((q,r)=>r.end(String(held.length))).listen(%d)`, holdMB, nodePort)
	return []string{nodeBin, "-e", js}
}

// probeClient makes one connection per request and closes it: a TCP
// connection still open when gVisor is checkpointed can leave the
// restored network stack deaf, so none may outlive its request.
var probeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}

// quiesceTime is how long the bench waits after its last request before a
// raw checkpoint, so the sandbox sees the connection closed; the daemon
// waits as long for its own connections (internal/sandbox quiesce).
const quiesceTime = 20 * time.Millisecond

// nodeGet asks the server at ip once and checks its answer.
func nodeGet(ctx context.Context, ip string, holdMB int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:%d/", ip, nodePort), nil)
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

// waitNode asks the server at ip until it answers, for up to within, and
// returns how long that took.
func waitNode(ctx context.Context, ip string, holdMB int, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		actx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := nodeGet(actx, ip, holdMB)
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
