package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// StreamOptions receives a streamed command's output as it is produced.
type StreamOptions struct {
	Stdout  io.Writer   // may be nil
	Stderr  io.Writer   // may be nil
	OnEvent func(Event) // optional: every event, including start and exit
}

// Exec runs a command to completion and returns its collected output.
// A command that runs and fails is not an error: check ExecResult.ExitCode.
func (c *Client) Exec(ctx context.Context, ref string, req ExecRequest) (*ExecResult, error) {
	var out, errb bytes.Buffer
	res := &ExecResult{}
	code, err := c.ExecStream(ctx, ref, req, StreamOptions{Stdout: &out, Stderr: &errb, OnEvent: func(ev Event) {
		switch ev.Type {
		case EventError:
			res.Error = ev.Message
		case EventExit:
			res.TimedOut = ev.TimedOut
		}
	}})
	if err != nil {
		return nil, err
	}
	res.Stdout, res.Stderr, res.ExitCode = out.Bytes(), errb.Bytes(), code
	return res, nil
}

// ExecStream runs a command, writes its output to opts as it arrives and
// returns its exit code once it ends.
func (c *Client) ExecStream(ctx context.Context, ref string, req ExecRequest, opts StreamOptions) (int, error) {
	if req.Background {
		return 0, fmt.Errorf("%w: use Start for background processes", ErrInvalidArgument)
	}
	code, ended, err := c.followEvents(ctx, http.MethodPost, sandboxPath(ref, "exec"), nil, req, opts)
	if err == nil && !ended {
		err = fmt.Errorf("%w: the output stream ended before the command did", ErrUnavailable)
	}
	return code, err
}

// followEvents reads an event stream until its exit event or its end. It
// reports the exit code and whether the exit event was seen.
func (c *Client) followEvents(ctx context.Context, method, path string, q url.Values, in any, opts StreamOptions) (int, bool, error) {
	exit := -1
	var failed error // an error event's, when the stream ends without an exit
	err := c.stream(ctx, method, path, q, in, func(line []byte) error {
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("decoding event: %w", err)
		}
		if opts.OnEvent != nil {
			opts.OnEvent(ev)
		}
		switch ev.Type {
		case EventStdout:
			if opts.Stdout != nil {
				if _, err := opts.Stdout.Write(ev.Data); err != nil {
					return fmt.Errorf("writing stdout: %w", err)
				}
			}
		case EventStderr:
			if opts.Stderr != nil {
				if _, err := opts.Stderr.Write(ev.Data); err != nil {
					return fmt.Errorf("writing stderr: %w", err)
				}
			}
		case EventExit:
			if ev.ExitCode != nil {
				exit = *ev.ExitCode
			}
			return errStreamEnd
		case EventError:
			if ev.Code != "" {
				failed = &APIError{Status: http.StatusOK, Code: ev.Code, Message: ev.Message}
			}
		}
		return nil
	})
	if err == errStreamEnd {
		return exit, true, nil
	}
	if err == nil && failed != nil {
		err = failed
	}
	return -1, false, err
}

// Start runs a command in the background and returns its process ID. The
// process outlives the call; see Processes, Output and Signal.
func (c *Client) Start(ctx context.Context, ref string, req ExecRequest) (int, error) {
	var out struct {
		PID int `json:"pid"`
	}
	req.Background = true
	if err := c.call(ctx, http.MethodPost, sandboxPath(ref, "processes"), nil, req, &out); err != nil {
		return 0, err
	}
	return out.PID, nil
}

// Processes lists the processes started through the API.
func (c *Client) Processes(ctx context.Context, ref string) ([]Process, error) {
	return getList[Process](ctx, c, sandboxPath(ref, "processes"), nil, "processes")
}

// Output streams a background process's buffered output and, with follow,
// its live output until it exits. It returns the exit code, or -1 if the
// process still runs and follow is false.
func (c *Client) Output(ctx context.Context, ref string, pid int, follow bool, opts StreamOptions) (int, error) {
	q := url.Values{"follow": {strconv.FormatBool(follow)}}
	code, ended, err := c.followEvents(ctx, http.MethodGet, sandboxPath(ref, "processes", strconv.Itoa(pid), "output"), q, nil, opts)
	if err == nil && !ended && follow {
		err = fmt.Errorf("%w: the output stream ended before the process did", ErrUnavailable)
	}
	return code, err
}

// Signal sends a signal (TERM, KILL, INT, HUP, ... or a number) to a process and its group.
func (c *Client) Signal(ctx context.Context, ref string, pid int, signal string) error {
	body := map[string]string{"signal": signal}
	return c.call(ctx, http.MethodPost, sandboxPath(ref, "processes", strconv.Itoa(pid), "signal"), nil, body, nil)
}
