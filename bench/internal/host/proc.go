package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcField returns the value of the first "key: value" line of a /proc
// file.
func ProcField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Meminfo returns a /proc/meminfo field in bytes.
func Meminfo(key string) (int64, error) {
	var kb int64
	if _, err := fmt.Sscanf(ProcField("/proc/meminfo", key), "%d kB", &kb); err != nil {
		return 0, fmt.Errorf("reading %s from /proc/meminfo: %w", key, err)
	}
	return kb << 10, nil
}

// ProcessRSS returns the resident memory of process pid, in bytes.
func ProcessRSS(pid int) (int64, error) {
	var kb int64
	_, err := fmt.Sscanf(ProcField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS"), "%d kB", &kb)
	return kb << 10, err
}

// ProcessCPU returns the user + system CPU time process pid has used, from
// /proc/PID/stat (in clock ticks of 10 ms: USER_HZ is 100 on Linux).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is the first, utime the 12th, stime the 13th.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("reading the CPU time of process %d: unexpected /proc/%d/stat %q", pid, pid, b)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// LoadAverage returns the 1-minute load average, a sign of other work on
// the machine (other engineers' tests, say) while the bench ran.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
