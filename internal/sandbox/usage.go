package sandbox

import (
	"context"
	"time"
)

// Usage is what a running sandbox has used so far: cumulative counters,
// which a caller turns into rates by sampling twice.
type Usage struct {
	At        time.Time
	CPU       time.Duration // CPU time since it started
	VCPUs     int
	MemBytes  int64 // in use now, page cache that can be dropped left out
	MemLimit  int64
	NetRx     uint64 // bytes the sandbox received
	NetTx     uint64 // bytes it sent
	DiskBytes int64  // of its writable layer
	DiskLimit int64
}

// UsageMeter is the optional runtime ability to report a sandbox's memory
// and disk.
type UsageMeter interface {
	Memory(id string) (used, limit int64, err error)
	Disk(id string) (int64, error)
}

// NetMeter is the optional network ability to count a sandbox's traffic.
type NetMeter interface {
	Counters(id string) (rx, tx uint64, err error)
}

// Usage samples a running sandbox's resource use. Counters the runtime or
// network cannot give stay zero.
func (m *Manager) Usage(ctx context.Context, teamID, ref string) (*Sandbox, Usage, error) {
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return nil, Usage{}, err
	}
	return sb, m.measure(sb), nil
}

// TeamUsage samples the resource use of every running sandbox of a team,
// by sandbox ID: one read of the records for them all.
func (m *Manager) TeamUsage(ctx context.Context, teamID string) (map[string]Usage, error) {
	list, err := m.List(ctx, teamID, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Usage, len(list))
	for _, sb := range list {
		if sb.State == Running {
			out[sb.ID] = m.measure(sb)
		}
	}
	return out, nil
}

// measure samples sb's counters; a sandbox that is not running has only
// its limits.
func (m *Manager) measure(sb *Sandbox) Usage {
	u := Usage{At: m.now(), VCPUs: sb.VCPUs, MemLimit: int64(sb.MemoryMB) << 20, DiskLimit: int64(sb.DiskMB) << 20}
	if sb.State != Running {
		return u
	}
	if meter, ok := m.rt.(Meter); ok {
		u.CPU, _ = meter.CPUTime(sb.ID)
	}
	if meter, ok := m.rt.(UsageMeter); ok {
		if used, limit, err := meter.Memory(sb.ID); err == nil {
			u.MemBytes = used
			if limit > 0 && limit < u.MemLimit {
				u.MemLimit = limit
			}
		}
		u.DiskBytes, _ = m.diskUsed(sb, meter)
	}
	if meter, ok := m.net.(NetMeter); ok {
		u.NetRx, u.NetTx, _ = meter.Counters(sb.ID)
	}
	return u
}
