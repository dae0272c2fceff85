// Package quota is the accounting of the teams' quotas: what each team may
// use (Limits: running sandboxes, their vCPUs and memory, stored bytes,
// builds at once), what it uses (Usage), and the checks that refuse an
// operation that would go over, with an errdefs.QuotaError that says which
// limit, how much is used and what to do. The server's flags give every
// team's defaults; a team's own limits, set by an admin, replace them.
package quota

import (
	"fmt"
	"strconv"

	"github.com/runtools/runtools/internal/errdefs"
)

// Unset, as a team's own limit, takes the server's default.
const Unset = -1

// Limits are a team's limits; 0 is no limit.
type Limits struct {
	Sandboxes int64 // running sandboxes (creating, running, resuming, pausing)
	VCPUs     int64 // of its running sandboxes, together
	MemoryMB  int64 // of its running sandboxes, together
	DiskBytes int64 // stored: paused images, snapshots, volumes, custom templates
	Builds    int64 // template builds (and saves) at once
}

// Unlimited has no limit at all.
var Unlimited = Limits{}

// NoOverride is a team's Limits that take every server default.
var NoOverride = Limits{Unset, Unset, Unset, Unset, Unset}

// Or returns l with every Unset (or negative) limit taken from d.
func (l Limits) Or(d Limits) Limits {
	pick := func(own, def int64) int64 {
		if own < 0 {
			return def
		}
		return own
	}
	return Limits{pick(l.Sandboxes, d.Sandboxes), pick(l.VCPUs, d.VCPUs), pick(l.MemoryMB, d.MemoryMB),
		pick(l.DiskBytes, d.DiskBytes), pick(l.Builds, d.Builds)}
}

// Disk is what a team keeps on the server's disk, in bytes.
type Disk struct {
	Paused    int64 // images of paused sandboxes
	Snapshots int64
	Volumes   int64
	Templates int64 // custom templates, every version
}

// Total is the bytes that count against DiskBytes.
func (d Disk) Total() int64 { return d.Paused + d.Snapshots + d.Volumes + d.Templates }

// Usage is what a team uses now.
type Usage struct {
	Sandboxes int64
	VCPUs     int64
	MemoryMB  int64
	Builds    int64
	Disk      Disk
}

// Names of the limits, on the wire and in metrics.
const (
	Sandboxes = "sandboxes"
	VCPUs     = "vcpus"
	MemoryMB  = "memory_mb"
	DiskBytes = "disk_bytes"
	Builds    = "builds"
)

// Item is one limit of a team with its use: a row of `runtools usage`.
type Item struct {
	Name  string
	Unit  string
	Used  int64
	Limit int64 // 0: none
}

// kind describes one limit: its unit, its wording, the flag that sets it
// and what frees some of it.
type kind struct {
	name, unit, what, flag, free string
	stored                       bool
}

var kinds = []kind{
	{Sandboxes, "sandboxes", "running sandboxes", "--max-sandboxes N", "pause, stop or destroy a sandbox", false},
	{VCPUs, "vcpus", "vCPUs of running sandboxes", "--max-vcpus N", "pause, stop or destroy a sandbox, or ask for fewer vCPUs", false},
	{MemoryMB, "MB", "memory of running sandboxes", "--max-memory SIZE", "pause, stop or destroy a sandbox, or ask for less memory", false},
	{DiskBytes, "bytes", "disk (paused sandboxes, snapshots, volumes, custom templates)", "--max-disk SIZE",
		"delete snapshots (runtools sandbox snapshot-rm), templates (runtools template rm) or paused sandboxes you no longer need", true},
	{Builds, "builds", "template builds at once", "--max-builds N", "wait for a build to finish", false},
}

// Report lists every limit with its use, in a fixed order.
func Report(l Limits, u Usage) []Item {
	used := []int64{u.Sandboxes, u.VCPUs, u.MemoryMB, u.Disk.Total(), u.Builds}
	limit := []int64{l.Sandboxes, l.VCPUs, l.MemoryMB, l.DiskBytes, l.Builds}
	out := make([]Item, len(kinds))
	for i, k := range kinds {
		out[i] = Item{Name: k.name, Unit: k.unit, Used: used[i], Limit: limit[i]}
	}
	return out
}

// CheckStart refuses to start a sandbox of vcpus and memoryMB on top of u
// if that goes over a limit.
func CheckStart(team string, l Limits, u Usage, vcpus, memoryMB int64) error {
	if err := over(team, 0, l.Sandboxes, u.Sandboxes, 1); err != nil {
		return err
	}
	if err := over(team, 1, l.VCPUs, u.VCPUs, vcpus); err != nil {
		return err
	}
	return over(team, 2, l.MemoryMB, u.MemoryMB, memoryMB)
}

// CheckDisk refuses to store more once the team's disk use has reached
// its limit (what an operation will write is not known in advance).
func CheckDisk(team string, l Limits, u Usage) error {
	if l.DiskBytes > 0 && u.Disk.Total() >= l.DiskBytes {
		return exceeded(team, kinds[3], u.Disk.Total(), 0, l.DiskBytes)
	}
	return nil
}

// CheckBuild refuses one more build at once if that goes over the limit.
func CheckBuild(team string, l Limits, u Usage) error {
	return over(team, 4, l.Builds, u.Builds, 1)
}

// over refuses used+more over limit (0: none) of kinds[i].
func over(team string, i int, limit, used, more int64) error {
	if limit > 0 && used+more > limit {
		return exceeded(team, kinds[i], used, more, limit)
	}
	return nil
}

func exceeded(team string, k kind, used, more, limit int64) *errdefs.QuotaError {
	if team == "" {
		team = "TEAM"
	}
	hint := fmt.Sprintf("%s, or ask an admin to raise it: runtools team update %s %s", k.free, team, k.flag)
	msg := fmt.Sprintf("quota exceeded: %s: %s of %s in use", k.what, amount(k, used), amount(k, limit))
	if more > 0 {
		msg += fmt.Sprintf(", and this needs %s more", amount(k, more))
	}
	return &errdefs.QuotaError{Name: k.name, Unit: k.unit, Used: used, Requested: more, Limit: limit,
		Stored: k.stored, Hint: hint, Message: msg + "; " + hint}
}

// amount writes n in k's unit for people.
func amount(k kind, n int64) string {
	switch k.unit {
	case "bytes":
		return Bytes(n)
	case "MB":
		return Bytes(n << 20)
	}
	return strconv.FormatInt(n, 10)
}

// Bytes writes n bytes for people, in powers of 1024: 512 MB, 1.5 GB.
func Bytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if f >= 100 || s[len(s)-2:] == ".0" {
		s = strconv.FormatFloat(f, 'f', 0, 64)
	}
	return s + " " + units[i:i+1] + "B"
}
