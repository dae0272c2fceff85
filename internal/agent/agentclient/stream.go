package agentclient

import (
	"bytes"
	"fmt"
	"net"
	"sync"
)

// stream buffers one output stream between the session's reader goroutine
// and the caller.
type stream struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    bytes.Buffer
	err    error // returned once buf is empty: io.EOF or why the stream broke
	closed bool  // Close was called: data is dropped
}

func newStream() *stream {
	s := &stream{}
	s.cond.L = &s.mu
	return s
}

// write appends p, first waiting while streamBuffer bytes are unread.
func (s *stream) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.buf.Len() >= streamBuffer && !s.closed {
		s.cond.Wait()
	}
	if !s.closed {
		s.buf.Write(p)
		s.cond.Broadcast()
	}
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.buf.Len() == 0 && s.err == nil {
		s.cond.Wait()
	}
	if s.buf.Len() > 0 {
		n, _ := s.buf.Read(p)
		s.cond.Broadcast()
		return n, nil
	}
	return 0, s.err
}

// finish makes Read return err once the data is read.
func (s *stream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.buf.Reset()
	if s.err == nil {
		s.err = fmt.Errorf("attach session closed: %w", net.ErrClosed)
	}
	s.cond.Broadcast()
}
