package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/runtools/runtools/client"
)

// The fake server's routes that run commands and background processes.

// events writes NDJSON events, flushing each.
func events(w http.ResponseWriter, evs ...client.Event) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, ev := range evs {
		data, _ := json.Marshal(ev)
		_, _ = w.Write(append(data, '\n'))
		w.(http.Flusher).Flush()
	}
}

func exitEvent(code int, timedOut bool) client.Event {
	return client.Event{Type: client.EventExit, ExitCode: &code, TimedOut: timedOut}
}

func (f *fake) exec(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.sandbox(r); err != nil {
		return err
	}
	var req client.ExecRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return invalid("bad JSON: %v", err)
	}
	f.lastExec = req
	start := client.Event{Type: client.EventStart, PID: 7}
	out := func(s string) client.Event { return client.Event{Type: client.EventStdout, Data: []byte(s)} }
	errOut := func(s string) client.Event { return client.Event{Type: client.EventStderr, Data: []byte(s)} }
	args := req.Cmd[1:]
	switch cmd := req.Cmd[0]; {
	case cmd == "echo":
		events(w, start, out(strings.Join(args, " ")+"\n"), exitEvent(0, false))
	case cmd == "exit":
		code, _ := strconv.Atoi(args[0])
		events(w, start, errOut("exiting\n"), exitEvent(code, false))
	case cmd == "cat":
		events(w, start, out(string(req.Stdin)), exitEvent(0, false))
	case cmd == "both":
		events(w, start, out("out 1\n"), errOut("err 1\n"), out("out 2\n"), exitEvent(0, false))
	case cmd == "sleep":
		events(w, start, out("sleeping\n"), exitEvent(124, true))
	case cmd == "lost":
		events(w, start, out("partial\n"), client.Event{Type: client.EventError, Message: "lost the connection to the sandbox agent"})
	case cmd == "nope" || strings.Contains(cmd, " "):
		events(w, client.Event{Type: client.EventError, Message: fmt.Sprintf("exec: %q: executable file not found in $PATH", cmd)}, exitEvent(127, false))
	default:
		events(w, start, out("ran "+quoteArgs(req.Cmd)+"\n"), exitEvent(0, false))
	}
	return nil
}

func (f *fake) start(w http.ResponseWriter, r *http.Request) error {
	sb, err := f.sandbox(r)
	if err != nil {
		return err
	}
	var req client.ExecRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return invalid("bad JSON: %v", err)
	}
	f.lastExec = req
	pid := 200 + len(f.procs[sb.ID])
	f.procs[sb.ID] = append(f.procs[sb.ID], &client.Process{PID: pid, Cmd: req.Cmd, StartedAt: testNow.Add(-5 * time.Minute), Running: true, StdinOpen: req.StdinOpen})
	if req.StdinOpen {
		if f.stdin == nil {
			f.stdin = map[int]*fakeStdin{}
		}
		f.stdin[pid] = &fakeStdin{}
	}
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(map[string]int{"pid": pid})
}

func (f *fake) process(r *http.Request) (*client.Process, error) {
	sb, err := f.sandbox(r)
	if err != nil {
		return nil, err
	}
	pid, _ := strconv.Atoi(r.PathValue("pid"))
	for _, p := range f.procs[sb.ID] {
		if p.PID == pid {
			return p, nil
		}
	}
	return nil, notFound("no process %d", pid)
}

func (f *fake) output(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	evs := []client.Event{
		{Type: client.EventStdout, Data: []byte("serving on :8000\n")},
		{Type: client.EventStderr, Data: []byte("GET / 200\n")},
	}
	if r.URL.Query().Get("follow") == "true" || !p.Running {
		code := 0
		if p.ExitCode != nil {
			code = *p.ExitCode
		}
		evs = append(evs, exitEvent(code, false))
	}
	events(w, evs...)
	return nil
}

func (f *fake) signal(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	var in struct{ Signal string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return invalid("bad JSON: %v", err)
	}
	if in.Signal != "TERM" && in.Signal != "KILL" && in.Signal != "9" {
		return invalid("unknown signal %q", in.Signal)
	}
	code := 143
	p.Running, p.ExitCode, p.StdinOpen = false, &code, false
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (f *fake) writeStdin(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	in := f.stdin[p.PID]
	if in == nil || in.closed {
		return &apiErr{http.StatusConflict, "conflict", fmt.Sprintf("process %d has no open stdin: start it with stdin_open", p.PID)}
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		in.writes = append(in.writes, data)
	}
	in.closed = r.URL.Query().Get("eof") == "true"
	p.StdinOpen = !in.closed
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// attach is exec attach: cat echoes stdin as it comes until "eof"; exit N
// and nope behave as in exec.
func (f *fake) attach(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	_, err := f.sandbox(r)
	f.mu.Unlock()
	if err != nil {
		writeAPIErr(w, err)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	_, data, err := c.Read(ctx)
	if err != nil {
		return
	}
	var req client.AttachRequest
	if err := json.Unmarshal(data, &req); err != nil || len(req.Cmd) == 0 {
		return
	}
	f.mu.Lock()
	f.lastAttach = req
	f.mu.Unlock()
	send := func(m client.AttachMessage) {
		b, _ := json.Marshal(m)
		c.Write(ctx, websocket.MessageText, b)
	}
	exit := func(code int) {
		send(client.AttachMessage{Type: client.EventExit, ExitCode: &code})
		c.Close(websocket.StatusNormalClosure, "")
	}
	send(client.AttachMessage{Type: client.EventStart})
	switch req.Cmd[0] {
	case "cat":
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				c.Write(ctx, websocket.MessageBinary, append([]byte{client.StreamStdout}, data...))
				continue
			}
			var m client.AttachMessage
			if json.Unmarshal(data, &m) == nil && m.Type == client.AttachEOF {
				exit(0)
				return
			}
		}
	case "exit":
		code, _ := strconv.Atoi(req.Cmd[1])
		c.Write(ctx, websocket.MessageBinary, append([]byte{client.StreamStderr}, "exiting\n"...))
		exit(code)
	case "nope":
		send(client.AttachMessage{Type: client.EventError, Message: `exec: "nope": executable file not found in $PATH`})
		exit(127)
	default:
		exit(0)
	}
}
