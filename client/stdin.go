package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// maxStdinRequest is the most input the server takes in one request.
const maxStdinRequest = 1 << 20

// SendStdin writes data to the stdin of background process pid, which
// must have been started with ExecRequest.StdinOpen. It returns once the
// process has taken all of it (sent in parts of at most 1 MiB, in order).
// A process whose stdin is not open (started without StdinOpen, closed, or
// exited) is ErrConflict.
func (c *Client) SendStdin(ctx context.Context, ref string, pid int, data []byte) error {
	for len(data) > 0 {
		part := data[:min(len(data), maxStdinRequest)]
		if err := c.stdin(ctx, ref, pid, part, false); err != nil {
			return err
		}
		data = data[len(part):]
	}
	return nil
}

// CloseStdin ends the stdin of background process pid, as the end of a
// file would.
func (c *Client) CloseStdin(ctx context.Context, ref string, pid int) error {
	return c.stdin(ctx, ref, pid, nil, true)
}

func (c *Client) stdin(ctx context.Context, ref string, pid int, data []byte, eof bool) error {
	var q url.Values
	if eof {
		q = url.Values{"eof": {"true"}}
	}
	req, err := c.newRequest(ctx, http.MethodPost, sandboxPath(ref, "processes", strconv.Itoa(pid), "stdin"), q, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	closeBody(resp)
	return nil
}

// SendStdin writes to a background process's stdin; see Client.SendStdin.
func (s *Sandbox) SendStdin(ctx context.Context, pid int, data []byte) error {
	return s.c.SendStdin(ctx, s.ref(), pid, data)
}

// CloseStdin ends a background process's stdin; see Client.CloseStdin.
func (s *Sandbox) CloseStdin(ctx context.Context, pid int) error {
	return s.c.CloseStdin(ctx, s.ref(), pid)
}
