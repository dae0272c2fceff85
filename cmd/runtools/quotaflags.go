package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/quota"
)

// addQuotaFlags adds the flags that give every team's limits (an admin
// changes one team's with runtools team update).
func addQuotaFlags(f *pflag.FlagSet, l *quota.Limits) {
	f.Var(&limitFlag{dst: &l.Sandboxes}, "max-sandboxes", "running sandboxes each team may have at once, or unlimited")
	f.Var(&limitFlag{dst: &l.VCPUs}, "max-vcpus", "vCPUs each team's running sandboxes may have together, or unlimited")
	f.Var(&limitFlag{dst: &l.MemoryMB, shift: 20}, "max-memory", "memory each team's running sandboxes may have together (such as 16G), or unlimited")
	f.Var(&limitFlag{dst: &l.DiskBytes, shift: 0, size: true}, "max-disk", "disk each team's paused sandboxes, snapshots, volumes and custom templates may take (such as 50G), or unlimited")
	f.Var(&limitFlag{dst: &l.Builds}, "max-builds", "template builds each team may run at once, or unlimited")
}

// limitFlag is a limit: a count, or with shift or size a size (512M, 8G)
// kept in units of 1<<shift bytes; unlimited or 0 is no limit.
type limitFlag struct {
	dst   *int64
	shift uint
	size  bool
}

func (f *limitFlag) Set(s string) error {
	n, err := parseLimit(s, f.shift, f.size || f.shift > 0)
	if err != nil {
		return err
	}
	*f.dst = n
	return nil
}

func (f *limitFlag) String() string {
	if f.dst == nil || *f.dst == 0 {
		return "unlimited"
	}
	if f.size || f.shift > 0 {
		return quota.Bytes(*f.dst << f.shift)
	}
	return strconv.FormatInt(*f.dst, 10)
}

func (f *limitFlag) Type() string {
	if f.size || f.shift > 0 {
		return "size"
	}
	return "count"
}

// parseLimit reads a limit: unlimited (or 0), a count, or a size in units
// of 1<<shift bytes.
func parseLimit(s string, shift uint, size bool) (int64, error) {
	n, err := client.ParseLimit(s, size)
	if err == nil && n < 0 {
		err = fmt.Errorf("%q: the server's flags are the defaults; give a limit or unlimited", s)
	}
	if err != nil {
		return 0, err
	}
	if n > 0 && n>>shift == 0 {
		return 0, fmt.Errorf("%q is less than 1 MB", s)
	}
	return n >> shift, nil
}
