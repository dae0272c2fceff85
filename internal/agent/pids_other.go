//go:build !linux

package agent

import (
	"fmt"
	"os"
)

// countPids counts the numeric entries of the proc directory.
func countPids(proc string) (int, error) {
	f, err := os.Open(proc)
	if err != nil {
		return 0, fmt.Errorf("counting processes: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, fmt.Errorf("counting processes: %w", err)
	}
	n := 0
	for _, name := range names {
		if isPid(name) {
			n++
		}
	}
	return n, nil
}
