package sandbox

// Quotas: a team's running sandboxes, their vCPUs and memory are counted
// from the records, and a sandbox about to run (created, forked, resumed
// or started) holds its place from the check until its record says it
// runs, so that concurrent starts cannot together go over a limit.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/quota"
)

// Quotas gives the teams' limits (package quota's Book). Without it
// nothing is limited.
type Quotas interface {
	// Limits returns a team's name and limits.
	Limits(ctx context.Context, teamID string) (string, quota.Limits, error)
	// CheckDisk refuses to store more for a team at its disk limit.
	CheckDisk(ctx context.Context, teamID string) error
}

// SetQuotas makes the manager refuse what goes over the teams' limits.
func (m *Manager) SetQuotas(q Quotas) { m.quotas = q }

var _ quota.Runner = (*Manager)(nil)

// BuildMetadata marks the sandboxes of template builds: they count as
// builds, not as their team's sandboxes.
const BuildMetadata = "runtools.build"

// metered reports whether sb counts against its team's sandbox limits.
func metered(sb *Sandbox) bool {
	_, build := sb.Metadata[BuildMetadata]
	return !build
}

// holdsCompute reports whether a sandbox in state s has (or is about to
// have, or is giving back) CPU and memory.
func holdsCompute(s State) bool {
	switch s {
	case Creating, Running, Resuming, Pausing, Stopping:
		return true
	}
	return false
}

// Running counts a team's running sandboxes, their vCPUs and memory, and
// what the images of its paused ones take.
func (m *Manager) Running(ctx context.Context, teamID string) (quota.Usage, error) {
	list, err := m.store.ListSandboxes(ctx, teamID, false)
	if err != nil {
		return quota.Usage{}, err
	}
	m.createMu.Lock()
	u := m.tally(teamID, list)
	m.createMu.Unlock()
	for _, sb := range list {
		if sb.State == Paused {
			u.Disk.Paused += dirSize(m.pauseImage(sb.ID))
		}
	}
	return u, nil
}

// tally adds up the team's sandboxes that hold compute: those list says
// so of, and those holding a place; the caller holds createMu.
func (m *Manager) tally(teamID string, list []*Sandbox) quota.Usage {
	var u quota.Usage
	add := func(sb *Sandbox) {
		u.Sandboxes++
		u.VCPUs += int64(sb.VCPUs)
		u.MemoryMB += int64(sb.MemoryMB)
	}
	for _, sb := range list {
		if _, held := m.starting[sb.ID]; !held && holdsCompute(sb.State) && metered(sb) {
			add(sb)
		}
	}
	for _, sb := range m.starting {
		if sb.TeamID == teamID {
			add(sb)
		}
	}
	return u
}

// reserve checks that sb may run within its team's limits and holds its
// place until release is called, which the caller does once sb's record
// says it runs, or it gave up. A build's sandbox is not checked.
func (m *Manager) reserve(ctx context.Context, sb *Sandbox) (release func(), err error) {
	release = func() {}
	if m.quotas == nil || !metered(sb) {
		return release, nil
	}
	name, l, err := m.quotas.Limits(ctx, sb.TeamID)
	if err != nil {
		return nil, fmt.Errorf("reading the team's limits: %w", err)
	}
	if l.Sandboxes == 0 && l.VCPUs == 0 && l.MemoryMB == 0 {
		return release, nil
	}
	m.createMu.Lock()
	defer m.createMu.Unlock()
	list, err := m.store.ListSandboxes(ctx, sb.TeamID, false)
	if err != nil {
		return nil, err
	}
	if err := quota.CheckStart(name, l, m.tally(sb.TeamID, list), int64(sb.VCPUs), int64(sb.MemoryMB)); err != nil {
		return nil, m.QuotaRefused(ctx, sb.TeamID, err)
	}
	m.starting[sb.ID] = sb
	return func() {
		m.createMu.Lock()
		defer m.createMu.Unlock()
		delete(m.starting, sb.ID)
	}, nil
}

// checkDisk refuses to store more for a team at its disk limit.
func (m *Manager) checkDisk(ctx context.Context, teamID string) error {
	if m.quotas == nil {
		return nil
	}
	return m.QuotaRefused(ctx, teamID, m.quotas.CheckDisk(ctx, teamID))
}

// QuotaRefused tells the team's webhooks (LimitRefused) when err is a
// quota's refusal, and returns err as it is.
func (m *Manager) QuotaRefused(ctx context.Context, teamID string, err error) error {
	var q *errdefs.QuotaError
	if errors.As(err, &q) {
		m.LimitRefused(ctx, teamID, fmt.Sprintf("max-%s: %d of %d in use, %d more asked", strings.TrimSuffix(strings.TrimSuffix(q.Name, "_mb"), "_bytes"), q.Used, q.Limit, q.Requested))
	}
	return err
}
