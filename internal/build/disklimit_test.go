package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestWatchDisk(t *testing.T) {
	defer func(d time.Duration) { diskCheckEvery = d }(diskCheckEvery)
	diskCheckEvery = 10 * time.Millisecond
	dir := t.TempDir()

	ctx, stop := watchDisk(context.Background(), dir, 1<<20)
	if err := os.WriteFile(filepath.Join(dir, "small"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if ctx.Err() != nil || stop() != nil {
		t.Fatalf("under the limit: ctx %v", context.Cause(ctx))
	}

	ctx, stop = watchDisk(context.Background(), dir, 1<<20)
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = byte(i) // not sparse
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not stop a step over its limit")
	}
	if err := stop(); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("stop: %v, want resource exhausted", err)
	}

	// What a step writes just before it ends is measured too.
	diskCheckEvery = time.Hour
	_, stop = watchDisk(context.Background(), dir, 1<<20)
	if err := stop(); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("stop at the end: %v, want resource exhausted", err)
	}
}
