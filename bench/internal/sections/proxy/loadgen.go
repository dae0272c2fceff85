package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
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

// LoadResult is what one or more load runs against one endpoint measured.
type LoadResult struct {
	Name     string
	Conns    int
	Requests int           // answered with 200 and the expected body
	Elapsed  time.Duration // wall time of the runs, summed
	Lat      stats.Samples // every answered request's latency
	Errors   int
	FirstErr string
	// DaemonCPU is the CPU time (user + system) the runtools server
	// process used during the runs: the proxy's cost, and a control for
	// the direct runs, which do not go through it.
	DaemonCPU time.Duration
}

// CPUPerRequest is the runtools server's CPU time per answered request.
func (l LoadResult) CPUPerRequest() time.Duration {
	if l.Requests == 0 {
		return 0
	}
	return l.DaemonCPU / time.Duration(l.Requests)
}

// RPS is the throughput: answered requests per second of wall time.
func (l LoadResult) RPS() float64 {
	if l.Elapsed <= 0 {
		return 0
	}
	return float64(l.Requests) / l.Elapsed.Seconds()
}

// Connections says how many connections the load had, in words.
func (l LoadResult) Connections() string { return connections(l.Conns) }

// add merges another run against the same endpoint.
func (l *LoadResult) add(o LoadResult) {
	l.Requests += o.Requests
	l.Elapsed += o.Elapsed
	l.Lat = append(l.Lat, o.Lat...)
	l.Errors += o.Errors
	l.DaemonCPU += o.DaemonCPU
	if l.FirstErr == "" {
		l.FirstErr = o.FirstErr
	}
}

// maxLoadErrors ends a load run early: something is broken, not slow.
const maxLoadErrors = 100

// load sends GETs to e from conns goroutines for d, each goroutine on one
// keep-alive HTTP/1.1 connection of its own, one request at a time, and
// times every request from before it is sent until its body is read. A
// request counts if it is answered 200 with a body of wantLen bytes. The
// connections are closed after.
func load(ctx context.Context, e endpoint, conns int, d time.Duration, wantLen int64) (LoadResult, error) {
	res := LoadResult{Name: e.name, Conns: conns}
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
			one := connLoad(ctx, req, deadline, wantLen, &errCount)
			mu.Lock()
			defer mu.Unlock()
			res.add(one)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if errCount.Load() >= maxLoadErrors || res.Requests == 0 {
		return res, fmt.Errorf("%s: %d requests failed, %d answered: %s", e.name, res.Errors, res.Requests, res.FirstErr)
	}
	return res, nil
}

// connLoad sends req again and again on one connection of its own until
// deadline, or until the load's errors (counted in errCount) reach
// maxLoadErrors, and returns what it measured, without the elapsed time.
func connLoad(ctx context.Context, req *http.Request, deadline time.Time, wantLen int64, errCount *atomic.Int64) LoadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	out := LoadResult{Lat: make(stats.Samples, 0, 4096)}
	for time.Now().Before(deadline) && ctx.Err() == nil && errCount.Load() < maxLoadErrors {
		t0 := time.Now()
		if err := get(cl, req, wantLen); err != nil {
			out.Errors++
			errCount.Add(1)
			if out.FirstErr == "" {
				out.FirstErr = err.Error()
			}
			continue
		}
		out.Lat = append(out.Lat, time.Since(t0))
	}
	out.Requests = len(out.Lat)
	return out
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
