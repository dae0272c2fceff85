package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// SetVolumes lets the manager keep the teams' volumes on h. Without it a
// volume cannot be created or mounted.
func (m *Manager) SetVolumes(h VolumeHost) { m.volumes = h }

func (m *Manager) volumeHost() (VolumeHost, error) {
	if m.volumes == nil {
		return nil, fmt.Errorf("%w: this server has no volumes (it runs without loop devices or mkfs.ext4: run `make setup`)", errdefs.ErrUnavailable)
	}
	return m.volumes, nil
}

// CreateVolume makes a team's new, empty volume of sizeMB, mounted on
// the host. The image comes first and the record after: a crash between
// leaves an image without a record, which the next Recover removes.
func (m *Manager) CreateVolume(ctx context.Context, teamID, name string, sizeMB int) (*Volume, error) {
	if err := ValidateVolumeName(name); err != nil {
		return nil, err
	}
	if err := ValidateVolumeSize(sizeMB); err != nil {
		return nil, err
	}
	host, err := m.volumeHost()
	if err != nil {
		return nil, err
	}
	if _, err := m.store.FindVolume(ctx, teamID, name); err == nil {
		return nil, volumeTaken(name)
	}
	if err := m.checkDisk(ctx, teamID); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	v := &Volume{ID: NewVolumeID(), TeamID: teamID, Name: name, SizeMB: sizeMB, CreatedAt: m.now().UTC()}
	if err := host.Create(ctx, v.ID, sizeMB); err != nil {
		return nil, fmt.Errorf("making volume %q: %w", name, err)
	}
	if err := m.store.InsertVolume(ctx, v); err != nil {
		if rerr := host.Remove(v.ID); rerr != nil {
			m.log.Warn("removing the image of a volume not recorded", "volume", v.ID, "err", rerr)
		}
		return nil, err
	}
	m.log.Info("volume created", "volume", v.ID, "team", teamID, "name", name, "size_mb", sizeMB)
	return v, nil
}

func volumeTaken(name string) error {
	return fmt.Errorf("%w: a volume named %q already exists; pick another name or remove it first", errdefs.ErrAlreadyExists, name)
}

// GetVolume returns a team's volume by ID or name.
func (m *Manager) GetVolume(ctx context.Context, teamID, ref string) (*Volume, error) {
	return m.store.FindVolume(ctx, teamID, ref)
}

// ListVolumes lists a team's volumes by name.
func (m *Manager) ListVolumes(ctx context.Context, teamID string) ([]*Volume, error) {
	return m.store.ListVolumes(ctx, teamID)
}

// VolumeUsage returns what a volume can hold and what its files take.
func (m *Manager) VolumeUsage(v *Volume) (VolumeUsage, error) {
	host, err := m.volumeHost()
	if err != nil {
		return VolumeUsage{}, err
	}
	return host.Usage(v.ID)
}

// VolumeUsers returns the IDs of the sandboxes, not destroyed, that
// mount the volume.
func (m *Manager) VolumeUsers(ctx context.Context, v *Volume) ([]string, error) {
	live, err := m.store.ListSandboxes(ctx, v.TeamID, false)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, sb := range live {
		if slices.ContainsFunc(sb.Volumes, func(mt VolumeMount) bool { return mt.VolumeID == v.ID }) {
			ids = append(ids, sb.ID)
		}
	}
	return ids, nil
}

// RemoveVolume removes a team's volume and its data. A volume that a
// sandbox not yet destroyed mounts (running, paused or stopped) is kept:
// the error names those sandboxes. Sandbox creates wait meanwhile, so
// none takes the volume while it goes.
func (m *Manager) RemoveVolume(ctx context.Context, teamID, ref string) error {
	host, err := m.volumeHost()
	if err != nil {
		return err
	}
	m.createMu.Lock()
	defer m.createMu.Unlock()
	v, err := m.store.FindVolume(ctx, teamID, ref)
	if err != nil {
		return err
	}
	users, err := m.VolumeUsers(ctx, v)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("%w: volume %q is used by sandbox(es) %s; destroy them first (a stopped or paused sandbox counts too)", errdefs.ErrConflict, v.Name, strings.Join(users, ", "))
	}
	ctx = context.WithoutCancel(ctx)
	if err := m.store.DeleteVolume(ctx, v.ID); err != nil {
		return err
	}
	if err := host.Remove(v.ID); err != nil {
		return fmt.Errorf("removing the image of volume %q (its record is gone; the next server start removes it): %w", v.Name, err)
	}
	m.log.Info("volume removed", "volume", v.ID, "team", teamID, "name", v.Name)
	return nil
}

// TeamVolumeBytes is the size of all of a team's volumes together: what
// they may take on the host's disk, which a disk quota counts.
func (m *Manager) TeamVolumeBytes(ctx context.Context, teamID string) (int64, error) {
	mb, err := m.store.VolumeMB(ctx, teamID)
	return mb << 20, err
}

// VolumeDir returns where a team's volume is mounted on the host, for
// its files to be read and written there (package volume's Dir keeps
// every path inside it).
func (m *Manager) VolumeDir(ctx context.Context, teamID, ref string) (string, error) {
	host, err := m.volumeHost()
	if err != nil {
		return "", err
	}
	v, err := m.store.FindVolume(ctx, teamID, ref)
	if err != nil {
		return "", err
	}
	return host.Mount(v.ID)
}

// resolveMounts fills in the volume ID of each of sb's mounts from its
// name (or checks the ID a fork's copy holds): each a volume of sb's team.
// The caller holds createMu, so no volume goes meanwhile.
func (m *Manager) resolveMounts(ctx context.Context, sb *Sandbox) error {
	if len(sb.Volumes) == 0 {
		return nil
	}
	if _, err := m.volumeHost(); err != nil {
		return err
	}
	for i := range sb.Volumes {
		mt := &sb.Volumes[i]
		ref := mt.Name
		if mt.VolumeID != "" {
			ref = mt.VolumeID
		}
		v, err := m.store.FindVolume(ctx, sb.TeamID, ref)
		if err != nil {
			return err
		}
		mt.VolumeID, mt.Name = v.ID, v.Name
	}
	return nil
}

// bindVolumes mounts sb's volumes on the host, if they are not, and adds
// them to spec.
func (m *Manager) bindVolumes(sb *Sandbox, spec *RunSpec) error {
	spec.Binds = spec.Binds[:0]
	for _, mt := range sb.Volumes {
		host, err := m.volumeHost()
		if err != nil {
			return err
		}
		dir, err := host.Mount(mt.VolumeID)
		if err != nil {
			return fmt.Errorf("mounting volume %q: %w", mt.Name, err)
		}
		spec.Binds = append(spec.Binds, Bind{Source: dir, Destination: mt.Path, ReadOnly: mt.ReadOnly})
	}
	return nil
}

// recoverVolumes mounts every recorded volume, so that the sandboxes
// that use them can start or be restored, and removes images without a
// record (a create or a remove that a crash cut short).
func (m *Manager) recoverVolumes(ctx context.Context) error {
	if m.volumes == nil {
		return nil
	}
	vols, err := m.store.ListVolumes(ctx, "")
	if err != nil {
		return fmt.Errorf("listing volumes: %w", err)
	}
	known := map[string]bool{}
	for _, v := range vols {
		known[v.ID] = true
		if _, err := m.volumes.Mount(v.ID); err != nil {
			m.log.Error("mounting a volume; the sandboxes that use it cannot start until it mounts", "volume", v.ID, "name", v.Name, "err", err)
		}
	}
	ids, err := m.volumes.List()
	if err != nil {
		return fmt.Errorf("listing volume images: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if !known[id] {
			m.log.Warn("removing a volume image without a record", "volume", id)
			errs = append(errs, m.volumes.Remove(id))
		}
	}
	return errors.Join(errs...)
}

// volumeHint explains a failed restore of a sandbox that mounts volumes:
// gVisor opens again, by path, the files the sandbox had open, and one
// that another sandbox (or the files API) removed meanwhile is not there.
func volumeHint(sb *Sandbox) string {
	if len(sb.Volumes) == 0 {
		return ""
	}
	return "; if a file it had open on a volume was removed or moved meanwhile, it cannot be restored: stop and start it (`runtools sandbox stop` and `start`: its processes start afresh, its disk and volumes are kept)"
}
