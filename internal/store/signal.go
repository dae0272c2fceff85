package store

import "sync"

// signal tells waiters that something changed: each channel from wait is
// closed at the next fire.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Changed returns a channel that is closed when the next sandbox record or
// event is written. Take it before reading, so no change is missed.
func (s *Store) Changed() <-chan struct{} { return s.changed.wait() }
