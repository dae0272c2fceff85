package quota

import (
	"context"
	"fmt"
	"sync"
)

// Teams is where the teams' own limits and stored bytes are recorded
// (package store).
type Teams interface {
	// TeamQuota returns a team's name and its own limits (Unset where it
	// takes the server's default).
	TeamQuota(ctx context.Context, teamID string) (name string, own Limits, err error)
	// SetTeamQuota records a team's own limits.
	SetTeamQuota(ctx context.Context, teamID string, own Limits) error
	// StoredBytes is what a team's snapshots and custom templates take.
	StoredBytes(ctx context.Context, teamID string) (Disk, error)
}

// Runner counts a team's running sandboxes, their vCPUs and memory, and
// the images of its paused ones (the sandbox manager).
type Runner interface {
	Running(ctx context.Context, teamID string) (Usage, error)
}

// VolumeMeter tells what a team's volumes take.
type VolumeMeter interface {
	VolumeBytes(ctx context.Context, teamID string) (int64, error)
}

// Book keeps the accounts: it answers a team's limits and usage, and
// counts the builds under way (in this process: one server per database).
type Book struct {
	defaults Limits
	teams    Teams
	runner   Runner      // nil: no sandboxes counted
	volumes  VolumeMeter // nil: volumes take nothing

	mu     sync.Mutex
	builds map[string]int64 // by team ID
}

// New returns a Book with the server's default limits.
func New(defaults Limits, teams Teams) *Book {
	return &Book{defaults: defaults.Or(Unlimited), teams: teams, builds: map[string]int64{}}
}

// SetRunner tells the book who counts running sandboxes.
func (b *Book) SetRunner(r Runner) { b.runner = r }

// SetVolumes tells the book who measures volumes. Until it is called,
// volumes count 0 bytes.
func (b *Book) SetVolumes(v VolumeMeter) { b.volumes = v }

// Defaults are the server's limits, those of every team without its own.
func (b *Book) Defaults() Limits { return b.defaults }

// Limits returns a team's name and the limits it has: its own, else the
// server's.
func (b *Book) Limits(ctx context.Context, teamID string) (string, Limits, error) {
	name, own, err := b.teams.TeamQuota(ctx, teamID)
	if err != nil {
		return "", Limits{}, err
	}
	return name, own.Or(b.defaults), nil
}

// Own returns a team's name and its own limits (Unset where it takes the
// server's default).
func (b *Book) Own(ctx context.Context, teamID string) (string, Limits, error) {
	return b.teams.TeamQuota(ctx, teamID)
}

// SetOwn records a team's own limits.
func (b *Book) SetOwn(ctx context.Context, teamID string, own Limits) error {
	return b.teams.SetTeamQuota(ctx, teamID, own)
}

// Usage is what a team uses now.
func (b *Book) Usage(ctx context.Context, teamID string) (Usage, error) {
	var u Usage
	if b.runner != nil {
		var err error
		if u, err = b.runner.Running(ctx, teamID); err != nil {
			return Usage{}, err
		}
	}
	stored, err := b.teams.StoredBytes(ctx, teamID)
	if err != nil {
		return Usage{}, err
	}
	u.Disk.Snapshots, u.Disk.Templates = stored.Snapshots, stored.Templates
	// The one place where volumes are added to a team's disk use.
	if b.volumes != nil {
		if u.Disk.Volumes, err = b.volumes.VolumeBytes(ctx, teamID); err != nil {
			return Usage{}, fmt.Errorf("measuring volumes: %w", err)
		}
	}
	b.mu.Lock()
	u.Builds = b.builds[teamID]
	b.mu.Unlock()
	return u, nil
}

// CheckDisk refuses to store more for a team at its disk limit.
func (b *Book) CheckDisk(ctx context.Context, teamID string) error {
	name, l, err := b.Limits(ctx, teamID)
	if err != nil || l.DiskBytes == 0 {
		return err
	}
	u, err := b.Usage(ctx, teamID)
	if err != nil {
		return err
	}
	return CheckDisk(name, l, u)
}

// StartBuild counts one more build of a team, which stores a template, if
// neither its build limit nor its disk limit refuses it. The caller calls
// done when the build ends.
func (b *Book) StartBuild(ctx context.Context, teamID string) (done func(), err error) {
	if err := b.CheckDisk(ctx, teamID); err != nil {
		return nil, err
	}
	name, l, err := b.Limits(ctx, teamID)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := CheckBuild(name, l, Usage{Builds: b.builds[teamID]}); err != nil {
		return nil, err
	}
	b.builds[teamID]++
	return sync.OnceFunc(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.builds[teamID]--; b.builds[teamID] <= 0 {
			delete(b.builds, teamID)
		}
	}), nil
}
