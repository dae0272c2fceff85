package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is where a load run sends its GETs: the Node.js server at the
// sandbox's address, or the dev-server proxy with the sandbox's host name.
type endpoint struct {
	name  string
	url   string // what is dialled: http://10.250.0.5:3000/ or http://127.0.0.1:PROXYPORT/
	host  string // the Host header; "" for the URL's host
	token string // X-Runtools-Access-Token; "" for none
}

// request makes a GET for e.
func (e endpoint) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return nil, fmt.Errorf("a request for %s: %w", e.name, err)
	}
	if e.host != "" {
		req.Host = e.host
	}
	if e.token != "" {
		req.Header.Set("X-Runtools-Access-Token", e.token)
	}
	return req, nil
}

// loadResult is what one or more load runs against one endpoint measured.
type loadResult struct {
	name     string
	conns    int
	requests int           // answered with 200 and the expected body
	elapsed  time.Duration // wall time of the runs, summed
	lat      samples       // every answered request's latency
	errors   int
	firstErr string
	// daemonCPU is the CPU time (user + system) the runtools server
	// process used during the runs: the proxy's cost, and a control for
	// the direct runs, which do not go through it.
	daemonCPU time.Duration
}

// cpuPerRequest is the runtools server's CPU time per answered request.
func (l *loadResult) cpuPerRequest() time.Duration {
	if l.requests == 0 {
		return 0
	}
	return l.daemonCPU / time.Duration(l.requests)
}

// rps is the throughput: answered requests per second of wall time.
func (l *loadResult) rps() float64 {
	if l.elapsed <= 0 {
		return 0
	}
	return float64(l.requests) / l.elapsed.Seconds()
}

// add merges another run against the same endpoint.
func (l *loadResult) add(o loadResult) {
	l.requests += o.requests
	l.elapsed += o.elapsed
	l.lat = append(l.lat, o.lat...)
	l.errors += o.errors
	l.daemonCPU += o.daemonCPU
	if l.firstErr == "" {
		l.firstErr = o.firstErr
	}
}

// maxLoadErrors ends a load run early: something is broken, not slow.
const maxLoadErrors = 100

// load sends GETs to e from conns goroutines for d, each goroutine on one
// keep-alive HTTP/1.1 connection of its own, one request at a time, and
// times every request from before it is sent until its body is read. A
// request counts if it is answered 200 with a body of wantLen bytes. The
// connections are closed after.
func load(ctx context.Context, e endpoint, conns int, d time.Duration, wantLen int64) (loadResult, error) {
	res := loadResult{name: e.name, conns: conns}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errCount atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		req, err := e.request(ctx)
		if err != nil {
			return res, err
		}
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			lat := make(samples, 0, 4096)
			var errs int
			var firstErr string
			for time.Now().Before(deadline) && ctx.Err() == nil && errCount.Load() < maxLoadErrors {
				t0 := time.Now()
				err := get(cl, req, wantLen)
				if err != nil {
					errs++
					errCount.Add(1)
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			res.lat = append(res.lat, lat...)
			res.requests += len(lat)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if errCount.Load() >= maxLoadErrors || res.requests == 0 {
		return res, fmt.Errorf("%s: %d requests failed, %d answered: %s", e.name, res.errors, res.requests, res.firstErr)
	}
	return res, nil
}

// get sends req once on cl and reads the whole answer, which must be 200
// with wantLen bytes.
func get(cl *http.Client, req *http.Request, wantLen int64) error {
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("reading the answer: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("answered %s", resp.Status)
	case n != wantLen:
		return errors.New("answered with an unexpected body length")
	}
	return nil
}
