package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

var _ sandbox.Store = (*Store)(nil)

const sandboxColumns = `id, team_id, name, template, state, stop_reason, vcpus, memory_mb, disk_mb,
	ip, secret, next_secret, idle_timeout_ms, env, metadata, created_at, started_at, stopped_at,
	public, ports, access_token, password_hash, desktop, egress, disk, auto_start,
	labels, timeout_at, on_timeout, timeout_warned, paused_at, volumes, node, image_object`

// InsertSandbox records a new sandbox. A live sandbox of the same team
// with the same name gives errdefs.ErrAlreadyExists.
func (s *Store) InsertSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	j, err := encodeJSON(sb)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx db) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sandboxes (`+sandboxColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sb.ID, sb.TeamID, sb.Name, sb.Template, string(sb.State), sb.StopReason, sb.VCPUs, sb.MemoryMB, sb.DiskMB,
			sb.IP.String(), sb.Secret, sb.NextSecret, sb.IdleTimeout.Milliseconds(), j.env, j.meta,
			toUnix(sb.CreatedAt), toUnix(sb.StartedAt), toUnix(sb.StoppedAt), sb.Public, j.ports, sb.AccessToken, sb.PasswordHash, sb.Desktop, j.egress, sb.Disk, sb.AutoStart,
			j.labels, toUnix(sb.TimeoutAt), sb.OnTimeout, sb.TimeoutWarned, toUnix(sb.PausedAt), j.volumes, sb.Node, sb.Image)
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, sb.ID, "", sb.State, sb.Why)
	})
	if s.db.d.isUnique(err) {
		if sb.Name != "" {
			return fmt.Errorf("%w: a sandbox named %q already exists; pick another name or destroy it first", errdefs.ErrAlreadyExists, sb.Name)
		}
		return fmt.Errorf("%w: sandbox %s or its address %s is already recorded", errdefs.ErrAlreadyExists, sb.ID, sb.IP)
	}
	if err != nil {
		return fmt.Errorf("recording sandbox: %w", err)
	}
	s.changed.fire()
	return nil
}

// UpdateSandbox saves a sandbox's mutable fields and, in the same
// transaction, records a change of state as an event with sb.Why.
func (s *Store) UpdateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	j, err := encodeJSON(sb)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx db) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM sandboxes WHERE id = ?`+tx.d.forUpdate, sb.ID).Scan(&old); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: sandbox %s", errdefs.ErrNotFound, sb.ID)
			}
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE sandboxes SET state = ?, stop_reason = ?, vcpus = ?, memory_mb = ?,
			disk_mb = ?, ip = ?, secret = ?, next_secret = ?, idle_timeout_ms = ?, env = ?, metadata = ?,
			started_at = ?, stopped_at = ?, public = ?, ports = ?, access_token = ?, egress = ?, auto_start = ?,
			labels = ?, timeout_at = ?, on_timeout = ?, timeout_warned = ?, paused_at = ?, node = ?, image_object = ? WHERE id = ?`,
			string(sb.State), sb.StopReason, sb.VCPUs, sb.MemoryMB, sb.DiskMB, sb.IP.String(), sb.Secret, sb.NextSecret,
			sb.IdleTimeout.Milliseconds(), j.env, j.meta, toUnix(sb.StartedAt), toUnix(sb.StoppedAt),
			sb.Public, j.ports, sb.AccessToken, j.egress, sb.AutoStart,
			j.labels, toUnix(sb.TimeoutAt), sb.OnTimeout, sb.TimeoutWarned, toUnix(sb.PausedAt), sb.Node, sb.Image, sb.ID)
		if err != nil || old == string(sb.State) {
			return err
		}
		return recordEvent(ctx, tx, sb.ID, sandbox.State(old), sb.State, sb.Why)
	})
	if err != nil {
		return fmt.Errorf("updating sandbox %s: %w", sb.ID, err)
	}
	s.changed.fire()
	return nil
}

func recordEvent(ctx context.Context, tx db, id string, from, to sandbox.State, why string) error {
	if tx.d.lockEvents != "" {
		if _, err := tx.ExecContext(ctx, tx.d.lockEvents); err != nil {
			return err
		}
	}
	at := time.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO sandbox_events (sandbox_id, at, from_state, to_state, why) VALUES (?, ?, ?, ?, ?)`,
		id, at.UnixNano(), string(from), string(to), why)
	if err != nil {
		return err
	}
	return enqueueWebhooks(ctx, tx, id, from, to, why, at)
}

// Events returns a sandbox's recorded transitions, oldest first.
func (s *Store) Events(ctx context.Context, id string) ([]sandbox.Event, error) {
	return s.queryEvents(ctx, `SELECT seq, sandbox_id, at, from_state, to_state, why FROM sandbox_events
		WHERE sandbox_id = ? ORDER BY seq`, id)
}

// EventsSince returns the events after seq, oldest first and at most
// limit: of one sandbox, or with sandboxID "" of every sandbox of the team
// ("" for every team).
func (s *Store) EventsSince(ctx context.Context, teamID, sandboxID string, seq int64, limit int) ([]sandbox.Event, error) {
	return s.queryEvents(ctx, `SELECT e.seq, e.sandbox_id, e.at, e.from_state, e.to_state, e.why
		FROM sandbox_events e JOIN sandboxes s ON s.id = e.sandbox_id
		WHERE e.seq > ? AND (? = '' OR e.sandbox_id = ?) AND (? = '' OR s.team_id = ?)
		ORDER BY e.seq LIMIT ?`, seq, sandboxID, sandboxID, teamID, teamID, limit)
}

// LastEventSeq returns the sequence number of the latest event, 0 if none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM sandbox_events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading the latest event: %w", err)
	}
	return seq.Int64, nil
}

// AddEvent records something that happened to a sandbox without a change
// of state (such as its desktop coming up).
func (s *Store) AddEvent(ctx context.Context, id string, state sandbox.State, why string) error {
	err := s.tx(ctx, func(tx db) error { return recordEvent(ctx, tx, id, state, state, why) })
	if err != nil {
		return fmt.Errorf("recording an event of %s: %w", id, err)
	}
	s.changed.fire()
	return nil
}

func (s *Store) queryEvents(ctx context.Context, query string, args ...any) ([]sandbox.Event, error) {
	return queryAll(ctx, s.db, "reading events", func(r scanner) (sandbox.Event, error) {
		var at int64
		var from, to string
		var ev sandbox.Event
		err := r.Scan(&ev.Seq, &ev.SandboxID, &at, &from, &to, &ev.Why)
		ev.At, ev.From, ev.To = fromUnix(at), sandbox.State(from), sandbox.State(to)
		return ev, err
	}, query, args...)
}

// GetSandbox returns a sandbox by ID, whatever its team.
func (s *Store) GetSandbox(ctx context.Context, id string) (*sandbox.Sandbox, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes WHERE id = ?`, id)
	sb, err := scanSandbox(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no sandbox %s", errdefs.ErrNotFound, id)
	}
	return sb, err
}

// FindSandbox returns a team's sandbox by ID, or by name among live ones.
// Another team's sandbox is reported as not found.
func (s *Store) FindSandbox(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	var r row
	if ref == "" {
		return nil, fmt.Errorf("%w: a sandbox ID or name is required", errdefs.ErrNotFound)
	}
	if sandbox.IsID(ref) {
		r = s.db.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes WHERE id = ? AND team_id = ?`, ref, teamID)
	} else {
		r = s.db.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes
			WHERE name = ? AND team_id = ? AND state != 'destroyed'`, ref, teamID)
	}
	sb, err := scanSandbox(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no sandbox %q; see `runtools sandbox list`", errdefs.ErrNotFound, ref)
	}
	return sb, err
}

// ListSandboxes lists a team's sandboxes ("" = all teams), newest first,
// with the destroyed ones if includeDestroyed.
func (s *Store) ListSandboxes(ctx context.Context, teamID string, includeDestroyed bool) ([]*sandbox.Sandbox, error) {
	q := `SELECT ` + sandboxColumns + ` FROM sandboxes WHERE (? = '' OR team_id = ?)`
	if !includeDestroyed {
		q += ` AND state != 'destroyed'`
	}
	return queryAll(ctx, s.db, "listing sandboxes", scanSandbox, q+` ORDER BY created_at DESC`, teamID, teamID)
}

// FindByName returns the live sandboxes of any team with this name.
func (s *Store) FindByName(ctx context.Context, name string) ([]*sandbox.Sandbox, error) {
	return queryAll(ctx, s.db, fmt.Sprintf("finding sandboxes named %q", name), scanSandbox,
		`SELECT `+sandboxColumns+` FROM sandboxes WHERE name = ? AND state != 'destroyed'`, name)
}

// LiveIPs returns the addresses held on a node by sandboxes not destroyed.
func (s *Store) LiveIPs(ctx context.Context, node string) ([]netip.Addr, error) {
	addrs, err := queryAll(ctx, s.db, "listing addresses", func(r scanner) (netip.Addr, error) {
		var ip string
		err := r.Scan(&ip)
		a, _ := netip.ParseAddr(ip) // an unreadable one holds no address: left out
		return a, err
	}, `SELECT ip FROM sandboxes WHERE state != 'destroyed' AND node = ?`, node)
	return slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.IsValid() }), err
}

func scanSandbox(r scanner) (*sandbox.Sandbox, error) {
	var (
		sb                             sandbox.Sandbox
		state, ip, env, meta, ports    string
		eg, labels, volumes            string
		idle, created, started, stoppd int64
		timeoutAt, pausedAt            int64
	)
	err := r.Scan(&sb.ID, &sb.TeamID, &sb.Name, &sb.Template, &state, &sb.StopReason, &sb.VCPUs, &sb.MemoryMB,
		&sb.DiskMB, &ip, &sb.Secret, &sb.NextSecret, &idle, &env, &meta, &created, &started, &stoppd,
		&sb.Public, &ports, &sb.AccessToken, &sb.PasswordHash, &sb.Desktop, &eg, &sb.Disk, &sb.AutoStart,
		&labels, &timeoutAt, &sb.OnTimeout, &sb.TimeoutWarned, &pausedAt, &volumes, &sb.Node, &sb.Image)
	if err != nil {
		return nil, err
	}
	sb.State = sandbox.State(state)
	sb.IdleTimeout = time.Duration(idle) * time.Millisecond
	sb.IP, _ = netip.ParseAddr(ip)
	sb.CreatedAt, sb.StartedAt, sb.StoppedAt = fromUnix(created), fromUnix(started), fromUnix(stoppd)
	sb.TimeoutAt, sb.PausedAt = fromUnix(timeoutAt), fromUnix(pausedAt)
	for _, f := range []struct {
		what string
		text string
		dst  any
	}{{"ports", ports, &sb.Ports}, {"env", env, &sb.Env}, {"egress policy", eg, &sb.Egress}, {"metadata", meta, &sb.Metadata}, {"labels", labels, &sb.Labels}, {"volumes", volumes, &sb.Volumes}} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("decoding %s of %s: %w", f.what, sb.ID, err)
		}
	}
	return &sb, nil
}

// sandboxJSON is what a sandbox's row keeps as JSON text.
type sandboxJSON struct{ env, meta, ports, egress, labels, volumes string }

// encodeJSON encodes the fields of sb its row keeps as JSON text, a nil
// map or list as an empty one.
func encodeJSON(sb *sandbox.Sandbox) (sandboxJSON, error) {
	var j sandboxJSON
	ports, volumes := sb.Ports, sb.Volumes
	if ports == nil {
		ports = []int{}
	}
	if volumes == nil {
		volumes = []sandbox.VolumeMount{}
	}
	for _, f := range []struct {
		what string
		v    any
		dst  *string
	}{{"env", orEmpty(sb.Env), &j.env}, {"metadata", orEmpty(sb.Metadata), &j.meta}, {"ports", ports, &j.ports}, {"egress policy", sb.Egress, &j.egress}, {"labels", orEmpty(sb.Labels), &j.labels}, {"volumes", volumes, &j.volumes}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return j, fmt.Errorf("encoding %s: %w", f.what, err)
		}
		*f.dst = string(b)
	}
	return j, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
