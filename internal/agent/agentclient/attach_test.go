package agentclient_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/agent/agenttest"
	"github.com/runtools/runtools/internal/errdefs"
)

type frame struct {
	typ     byte
	payload string
}

func writeFrame(w io.Writer, typ byte, payload []byte) {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	w.Write(hdr[:])
	w.Write(payload)
}

func readFrame(r io.Reader) (frame, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	_, err := io.ReadFull(r, b)
	return frame{hdr[0], string(b)}, err
}

// fakeAgent answers /attach with 101 and hands the connection to serve.
func fakeAgent(t *testing.T, serve func(r *http.Request, req agentapi.AttachRequest, br *bufio.Reader, conn net.Conn)) *agentclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req agentapi.AttachRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decoding request: %v", err)
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", agentapi.UpgradeAttach)
		serve(r, req, brw.Reader, conn)
	}))
	t.Cleanup(srv.Close)
	c := agentclient.New(srv.URL, "tok")
	t.Cleanup(c.Close)
	return c
}

// TestAttachWire checks the request and both directions of frames against
// agentapi, independently of the agent.
func TestAttachWire(t *testing.T) {
	t.Parallel()
	got := make(chan []frame, 1)
	c := fakeAgent(t, func(r *http.Request, req agentapi.AttachRequest, br *bufio.Reader, conn net.Conn) {
		if r.Method != "POST" || r.URL.Path != "/attach" || r.Header.Get("Authorization") != "Bearer tok" ||
			r.Header.Get("Connection") != "Upgrade" || r.Header.Get("Upgrade") != agentapi.UpgradeAttach {
			t.Errorf("request: %s %s %v", r.Method, r.URL, r.Header)
		}
		if !req.TTY || req.Cols != 90 || req.Rows != 20 || len(req.Cmd) != 1 || req.Cmd[0] != "sh" {
			t.Errorf("attach request %+v", req)
		}
		var frames []frame
		for {
			f, err := readFrame(br)
			if err != nil {
				t.Errorf("reading frames: %v", err)
				return
			}
			frames = append(frames, f)
			if f.typ == agentapi.FrameEOF {
				break
			}
		}
		got <- frames
		writeFrame(conn, agentapi.FrameStdout, []byte("out"))
		writeFrame(conn, agentapi.FrameStderr, []byte("err"))
		writeFrame(conn, agentapi.FrameStdout, []byte("put"))
		writeFrame(conn, agentapi.FrameExit, []byte{0xff, 0xff, 0xff, 0xfe}) // -2
		io.Copy(io.Discard, br)                                              // until the client closes
	})
	s, err := c.Attach(context.Background(), agentapi.AttachRequest{Cmd: []string{"sh"}, TTY: true, Cols: 90, Rows: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write([]byte("hello"))
	s.Resize(300, 2)
	s.Signal("INT")
	s.CloseStdin()
	want := []frame{
		{agentapi.FrameStdin, "hello"},
		{agentapi.FrameResize, "\x01\x2c\x00\x02"},
		{agentapi.FrameSignal, "INT"},
		{agentapi.FrameEOF, ""},
	}
	if frames := <-got; fmt.Sprint(frames) != fmt.Sprint(want) {
		t.Errorf("frames = %q, want %q", frames, want)
	}
	code, err := s.Wait()
	if code != -2 || err != nil {
		t.Errorf("Wait = %d, %v", code, err)
	}
	out, _ := io.ReadAll(s.Stdout())
	errOut, _ := io.ReadAll(s.Stderr())
	if string(out) != "output" || string(errOut) != "err" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

// TestAttachStreamBreaks: a connection that ends before the exit frame is
// an unavailable error, for Wait and for the output readers.
func TestAttachStreamBreaks(t *testing.T) {
	t.Parallel()
	c := fakeAgent(t, func(_ *http.Request, _ agentapi.AttachRequest, _ *bufio.Reader, conn net.Conn) {
		writeFrame(conn, agentapi.FrameStdout, []byte("partial"))
	})
	s, err := c.Attach(context.Background(), agentapi.AttachRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Wait(); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("Wait: %v", err)
	}
	out, err := io.ReadAll(s.Stdout())
	if string(out) != "partial" || !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("stdout %q, %v", out, err)
	}
}

// TestAttachSlowReader: output waiting on one stream does not hold up the
// other until its buffer is full.
func TestAttachSlowReader(t *testing.T) {
	t.Parallel()
	c := fakeAgent(t, func(_ *http.Request, _ agentapi.AttachRequest, br *bufio.Reader, conn net.Conn) {
		writeFrame(conn, agentapi.FrameStdout, make([]byte, 512<<10))
		writeFrame(conn, agentapi.FrameStderr, []byte("err"))
		writeFrame(conn, agentapi.FrameExit, make([]byte, 4))
		io.Copy(io.Discard, br)
	})
	s, err := c.Attach(context.Background(), agentapi.AttachRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	errOut, err := io.ReadAll(s.Stderr()) // stdout not read yet
	if string(errOut) != "err" || err != nil {
		t.Errorf("stderr %q, %v", errOut, err)
	}
	if code, err := s.Wait(); code != 0 || err != nil {
		t.Errorf("Wait = %d, %v", code, err)
	}
	if n, err := io.Copy(io.Discard, s.Stdout()); n != 512<<10 || err != nil {
		t.Errorf("stdout: %d bytes, %v", n, err)
	}
}

func TestUpgradeErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/attach":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":"not_found","message":"no route POST /attach"}`)
		case "/sftp":
			w.WriteHeader(http.StatusOK) // not an upgrade
		}
	}))
	defer srv.Close()
	c := agentclient.New(srv.URL, "tok")
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Attach(ctx, agentapi.AttachRequest{}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Attach to an agent without the route: %v", err)
	}
	if _, err := c.SFTP(ctx, ""); err == nil {
		t.Error("SFTP accepted a 200 answer")
	}

	c = agentclient.New("http://"+freeAddr(t), "tok")
	defer c.Close()
	if _, err := c.Attach(ctx, agentapi.AttachRequest{}); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("refused connection: %v", err)
	}

	// An agent that never answers: ctx bounds the handshake.
	ln := agenttest.Listen(t, func(net.Conn) {})
	c = agentclient.New("http://"+ln.Addr().String(), "tok")
	defer c.Close()
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.SFTP(tctx, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent agent: %v", err)
	}
}
