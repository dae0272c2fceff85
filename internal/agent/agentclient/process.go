package agentclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// maxEventLine bounds one ndjson line. Events carry at most 32 KiB of output
// (about 44 KiB encoded); the margin is for future event types.
const maxEventLine = 16 << 20

// Exec runs req in the foreground and calls onEvent for every event as it
// arrives: start, stdout/stderr, then exit (or error then exit when the
// process could not start). It returns nil after the exit event. If onEvent
// returns an error, Exec stops reading and returns it; dropping the stream
// makes the agent kill the process group, as does cancelling ctx.
func (c *Client) Exec(ctx context.Context, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) error {
	req.Background = false
	b, err := encodeJSON("exec request", req)
	if err != nil {
		return err
	}
	sawExit, err := c.events(ctx, http.MethodPost, "/exec", nil, bytes.NewReader(b), "application/json", onEvent)
	if err == nil && !sawExit {
		err = fmt.Errorf("exec %v: %w: stream ended without an exit event", req.Cmd, errdefs.ErrUnavailable)
	}
	return err
}

// Start runs req in the background and returns its pid. Its output is kept
// by the agent; see Output.
func (c *Client) Start(ctx context.Context, req agentapi.ExecRequest) (int, error) {
	req.Background = true
	var res agentapi.StartResponse
	if err := c.sendJSON(ctx, http.MethodPost, "/exec", nil, req, &res); err != nil {
		return 0, err
	}
	return res.PID, nil
}

// Processes lists the running processes and the recently finished
// background ones.
func (c *Client) Processes(ctx context.Context) ([]agentapi.Process, error) {
	var out []agentapi.Process
	err := c.getJSON(ctx, "/processes", nil, &out)
	return out, err
}

// Output replays the buffered output of background process pid and, with
// follow, its live output until it exits. The exit event comes last when the
// process has exited. Without follow, Output returns after the buffered
// output even if the process still runs.
func (c *Client) Output(ctx context.Context, pid int, follow bool, onEvent func(agentapi.Event) error) error {
	q := url.Values{"follow": {strconv.FormatBool(follow)}}
	sawExit, err := c.events(ctx, http.MethodGet, processPath(pid, "output"), q, nil, "", onEvent)
	if err == nil && follow && !sawExit {
		err = fmt.Errorf("output of %d: %w: stream ended without an exit event", pid, errdefs.ErrUnavailable)
	}
	return err
}

// Signal sends sig (TERM, KILL, INT, HUP, QUIT, USR1, USR2, STOP, CONT or a
// number) to the process group of pid.
func (c *Client) Signal(ctx context.Context, pid int, sig string) error {
	return c.sendJSON(ctx, http.MethodPost, processPath(pid, "signal"), nil,
		agentapi.SignalRequest{Signal: sig}, nil)
}

// events sends a request answered with an event stream and calls onEvent
// for each event (see readEvents).
func (c *Client) events(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, onEvent func(agentapi.Event) error) (sawExit bool, err error) {
	resp, err := c.do(ctx, method, path, query, body, contentType)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	return readEvents(ctx, resp.Body, onEvent)
}

// readEvents decodes ndjson events from r until an exit event (reported as
// sawExit) or the end of the stream. Lines can be large, so it reads them
// whole rather than with a bufio.Scanner's fixed limit.
func readEvents(ctx context.Context, r io.Reader, onEvent func(agentapi.Event) error) (sawExit bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if len(bytes.TrimSpace(line)) > 0 {
			var ev agentapi.Event
			if jerr := json.Unmarshal(line, &ev); jerr != nil {
				return false, fmt.Errorf("%w: decoding event: %w", errdefs.ErrUnavailable, jerr)
			}
			if cerr := onEvent(ev); cerr != nil {
				return false, cerr
			}
			if ev.Type == agentapi.EventExit {
				io.Copy(io.Discard, io.LimitReader(br, 4096)) // end of stream: lets the connection be reused
				return true, nil
			}
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, transportError(ctx, "reading event stream", err)
		}
	}
}

var errLineTooLong = errors.New("event line too long")

// readLine returns the next line including its newline; at the end of the
// stream it returns what is left with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
		if len(line) > maxEventLine {
			return nil, errLineTooLong
		}
	}
}

// WriteStdin writes data (at most agentapi.MaxStdinBody bytes) to the
// stdin of background process pid, started with StdinOpen, and with eof
// closes it afterwards. It returns once the process has taken the data.
func (c *Client) WriteStdin(ctx context.Context, pid int, data []byte, eof bool) error {
	var q url.Values
	if eof {
		q = url.Values{"eof": {"true"}}
	}
	return c.call(ctx, http.MethodPost, processPath(pid, "stdin"), q, bytes.NewReader(data), "application/octet-stream", nil)
}

// processPath is the path of a process's endpoint, such as "output".
func processPath(pid int, endpoint string) string {
	return "/processes/" + strconv.Itoa(pid) + "/" + endpoint
}
