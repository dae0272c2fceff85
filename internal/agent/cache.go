package agent

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// cacheTTL is how long the agent trusts what it learned from the sandbox's
// files (accounts, where a program is on PATH, whether a home directory
// exists) before looking again. File operations are costly inside gVisor
// (reading /etc/passwd and /etc/group alone took 0.8 ms per exec), and a
// second is short enough that `useradd` or `npm i -g` followed by an exec
// sees the change in practice.
const cacheTTL = time.Second

// cached holds what a read function made of one file, re-reading it when
// the file's size, time or inode changed, and checking at most once per
// cacheTTL. A nil *cached reads every time.
type cached[T any] struct {
	mu      sync.Mutex
	checked time.Time
	stamp   fileStamp
	val     T
	err     error
}

type fileStamp struct {
	size, mtime int64
	ino         uint64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

func (c *cached[T]) get(path string, read func(string) (T, error)) (T, error) {
	if c == nil {
		return read(path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !c.checked.IsZero() && now.Sub(c.checked) < cacheTTL {
		return c.val, c.err
	}
	st := stampOf(path)
	if c.checked.IsZero() || st != c.stamp {
		c.val, c.err = read(path)
		c.stamp = st
	}
	c.checked = now
	return c.val, c.err
}

// recent remembers answers about paths for cacheTTL: where a program was
// found on PATH, whether a directory exists. Only positive answers are
// kept, so a program installed a moment ago is found at once.
type recent struct {
	mu sync.Mutex
	m  map[string]recentHit
}

type recentHit struct {
	val string
	at  time.Time
}

func (r *recent) get(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.m[key]
	if !ok || time.Since(h.at) >= cacheTTL {
		return "", false
	}
	return h.val, true
}

func (r *recent) put(key, val string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) > 1024 {
		r.m = map[string]recentHit{}
	}
	r.m[key] = recentHit{val: val, at: time.Now()}
}
