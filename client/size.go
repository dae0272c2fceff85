package client

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize reads a size as people write it: bytes, or a number with a
// unit K, M, G or T, in powers of 1024 (KB, KiB and the like mean the
// same): 512M, 8G, 1.5T.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	shift := 0
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			shift, t = 10*(i+1), t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("size %q: want a number of bytes, or one with a unit such as 512M, 8G or 1T", s)
	}
	n := f * float64(int64(1)<<shift)
	if n >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(n), nil
}

// ParseLimit reads a limit as people write it (runtools team update):
// unlimited or 0 for none, default (-1) for the server's default, else a
// count, or with size a size such as 8G, in bytes.
func ParseLimit(s string, size bool) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "unlimited", "none":
		return 0, nil
	case "default":
		return -1, nil
	}
	if size {
		return ParseSize(s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("limit %q: want a number, unlimited or default", s)
	}
	return n, nil
}
