package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WatchOptions tune a watch.
type WatchOptions struct {
	// NoMetrics leaves the metrics out of a sandbox's stream.
	NoMetrics bool
	// Metrics adds to a team's stream (WatchTeam) the metrics of each of
	// its running sandboxes, one event per sandbox every second.
	Metrics bool
	// After resumes after the status event with this seq; 0 starts with
	// the current state.
	After int64
}

// Watch streams a sandbox's status changes and, every second, its metrics
// to fn until ctx ends or fn returns an error. A dropped connection is
// made again, resuming after the last status event delivered, so no status
// change is lost or repeated. It returns fn's error, ctx's, or an error
// that trying again would not fix (the sandbox or the key is gone).
//
//	err := c.Watch(ctx, "my-env", client.WatchOptions{}, func(ev client.WatchEvent) error {
//		if ev.Status != nil { fmt.Println(ev.Status.State, ev.Status.VNCReady) }
//		if ev.Metrics != nil { fmt.Println(ev.Metrics.CPUPercent, ev.Metrics.MemPercent) }
//		return nil
//	})
func (c *Client) Watch(ctx context.Context, ref string, opts WatchOptions, fn func(WatchEvent) error) error {
	q := url.Values{}
	if opts.NoMetrics {
		q.Set("metrics", "false")
	}
	return c.watch(ctx, sandboxPath(ref, "watch"), q, opts.After, fn)
}

// WatchTeam streams the status changes of every sandbox of the key's team,
// as Watch does, and with opts.Metrics the metrics of each running one
// every second (ev.Metrics.SandboxID says whose): what a live list of the
// team's sandboxes needs, on one connection.
func (c *Client) WatchTeam(ctx context.Context, opts WatchOptions, fn func(WatchEvent) error) error {
	q := url.Values{}
	if opts.Metrics {
		q.Set("metrics", "true")
	}
	return c.watch(ctx, "/v1/watch", q, opts.After, fn)
}

// Watch streams this sandbox's status changes and metrics; see Client.Watch.
func (s *Sandbox) Watch(ctx context.Context, fn func(WatchEvent) error) error {
	return s.c.Watch(ctx, s.ref(), WatchOptions{}, fn)
}

// On calls onStatus and onMetrics (either may be nil) with this sandbox's
// events until ctx ends; see Client.Watch.
func (s *Sandbox) On(ctx context.Context, onStatus func(Status), onMetrics func(Metrics)) error {
	return s.c.Watch(ctx, s.ref(), WatchOptions{NoMetrics: onMetrics == nil}, func(ev WatchEvent) error {
		switch {
		case ev.Status != nil && onStatus != nil:
			onStatus(*ev.Status)
		case ev.Metrics != nil && onMetrics != nil:
			onMetrics(*ev.Metrics)
		}
		return nil
	})
}

// errFn marks an error of the caller's fn, which ends a watch.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

func (c *Client) watch(ctx context.Context, path string, q url.Values, after int64, fn func(WatchEvent) error) error {
	backoff := 100 * time.Millisecond
	for {
		if after > 0 {
			q.Set("after", strconv.FormatInt(after, 10))
		}
		got, err := c.watchOnce(ctx, path, q, func(ev WatchEvent) error {
			if err := fn(ev); err != nil {
				return errFn{err}
			}
			if ev.Type == EventStatus && ev.Seq > 0 {
				after = ev.Seq
			}
			return nil
		})
		var fe errFn
		switch {
		case errors.As(err, &fe):
			return fe.err
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !retryable(err):
			return err
		}
		if got {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// retryable reports whether a watch that failed with err may work again.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return true // the server is restarting, the network dropped
}

// watchOnce reads one stream (Server-Sent Events) until it ends; got says
// whether any event came.
func (c *Client) watchOnce(ctx context.Context, path string, q url.Values, fn func(WatchEvent) error) (got bool, err error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return false, decodeError(resp)
	}
	br := bufio.NewReader(resp.Body)
	var data strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return got, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data.Len() == 0 {
				continue
			}
			var ev WatchEvent
			if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
				return got, fmt.Errorf("decoding a watch event: %w", err)
			}
			data.Reset()
			got = true
			if err := fn(ev); err != nil {
				return got, err
			}
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}
