package template

import (
	"context"
	"fmt"
	"os"
	"time"
)

// fileLock is an exclusive flock on a lock file. flock locks belong to the
// open file, so two goroutines of one process exclude each other as well as
// two processes do, and the kernel drops the lock when a process dies.
type fileLock struct{ f *os.File }

// Unlock releases the lock.
func (l *fileLock) Unlock() { l.f.Close() }

// tryLock takes the lock at path if it is free.
func tryLock(path string) (*fileLock, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("opening lock file: %w", err)
	}
	ok, err := flock(f, true)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("locking %s: %w", path, err)
		}
		return nil, false, nil
	}
	return &fileLock{f: f}, true, nil
}

// lock waits for the lock at path until ctx is done; waiting is called once
// if the lock is held by someone else.
func lock(ctx context.Context, path string, waiting func()) (*fileLock, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		l, ok, err := tryLock(path)
		if err != nil {
			return nil, err
		}
		if ok {
			return l, nil
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// lockHeld reports whether someone holds the lock at path, without creating
// the file. It probes with a shared lock, so probes do not exclude each other.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := flock(f, false)
	return err == nil && !ok
}
