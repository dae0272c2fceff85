//go:build !linux

package agent

import "os"

// countPidEntries counts the numeric entries of dir.
func countPidEntries(dir *os.File) (int, error) {
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if isPid(name) {
			n++
		}
	}
	return n, nil
}
