package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

var _ sandbox.Store = (*Store)(nil)

const sandboxColumns = `id, team_id, name, template, state, stop_reason, vcpus, memory_mb, disk_mb,
	ip, secret, next_secret, idle_timeout_ms, env, metadata, created_at, started_at, stopped_at,
	public, ports, access_token, password_hash, desktop, egress`

// InsertSandbox records a new sandbox. A live sandbox of the same team
// with the same name gives errdefs.ErrAlreadyExists.
func (s *Store) InsertSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	env, meta, err := encodeMaps(sb)
	if err != nil {
		return err
	}
	ports, err := encodePorts(sb.Ports)
	if err != nil {
		return err
	}
	eg, err := json.Marshal(sb.Egress)
	if err != nil {
		return fmt.Errorf("encoding egress policy: %w", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sandboxes (`+sandboxColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sb.ID, sb.TeamID, sb.Name, sb.Template, string(sb.State), sb.StopReason, sb.VCPUs, sb.MemoryMB, sb.DiskMB,
			sb.IP.String(), sb.Secret, sb.NextSecret, sb.IdleTimeout.Milliseconds(), env, meta,
			toUnix(sb.CreatedAt), toUnix(sb.StartedAt), toUnix(sb.StoppedAt), sb.Public, ports, sb.AccessToken, sb.PasswordHash, sb.Desktop, string(eg))
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, sb.ID, "", sb.State, sb.Why)
	})
	if isUnique(err) {
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
	env, meta, err := encodeMaps(sb)
	if err != nil {
		return err
	}
	ports, err := encodePorts(sb.Ports)
	if err != nil {
		return err
	}
	eg, err := json.Marshal(sb.Egress)
	if err != nil {
		return fmt.Errorf("encoding egress policy: %w", err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM sandboxes WHERE id = ?`, sb.ID).Scan(&old); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: sandbox %s", errdefs.ErrNotFound, sb.ID)
			}
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE sandboxes SET state = ?, stop_reason = ?, vcpus = ?, memory_mb = ?,
			disk_mb = ?, ip = ?, secret = ?, next_secret = ?, idle_timeout_ms = ?, env = ?, metadata = ?,
			started_at = ?, stopped_at = ?, public = ?, ports = ?, access_token = ?, egress = ? WHERE id = ?`,
			string(sb.State), sb.StopReason, sb.VCPUs, sb.MemoryMB, sb.DiskMB, sb.IP.String(), sb.Secret, sb.NextSecret,
			sb.IdleTimeout.Milliseconds(), env, meta, toUnix(sb.StartedAt), toUnix(sb.StoppedAt),
			sb.Public, ports, sb.AccessToken, string(eg), sb.ID)
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

func recordEvent(ctx context.Context, tx *sql.Tx, id string, from, to sandbox.State, why string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sandbox_events (sandbox_id, at, from_state, to_state, why) VALUES (?, ?, ?, ?, ?)`,
		id, time.Now().UnixNano(), string(from), string(to), why)
	return err
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
	err := s.tx(ctx, func(tx *sql.Tx) error { return recordEvent(ctx, tx, id, state, state, why) })
	if err != nil {
		return fmt.Errorf("recording an event of %s: %w", id, err)
	}
	s.changed.fire()
	return nil
}

func (s *Store) queryEvents(ctx context.Context, query string, args ...any) ([]sandbox.Event, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	var out []sandbox.Event
	for rows.Next() {
		var at int64
		var from, to string
		var ev sandbox.Event
		if err := rows.Scan(&ev.Seq, &ev.SandboxID, &at, &from, &to, &ev.Why); err != nil {
			return nil, err
		}
		ev.At, ev.From, ev.To = fromUnix(at), sandbox.State(from), sandbox.State(to)
		out = append(out, ev)
	}
	return out, rows.Err()
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
	var row *sql.Row
	if ref == "" {
		return nil, fmt.Errorf("%w: a sandbox ID or name is required", errdefs.ErrNotFound)
	}
	if sandbox.IsID(ref) {
		row = s.db.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes WHERE id = ? AND team_id = ?`, ref, teamID)
	} else {
		row = s.db.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes
			WHERE name = ? AND team_id = ? AND state != 'stopped'`, ref, teamID)
	}
	sb, err := scanSandbox(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no sandbox %q; see `runtools sandbox list`", errdefs.ErrNotFound, ref)
	}
	return sb, err
}

// ListSandboxes lists a team's sandboxes ("" = all teams), newest first.
func (s *Store) ListSandboxes(ctx context.Context, teamID string, includeStopped bool) ([]*sandbox.Sandbox, error) {
	q := `SELECT ` + sandboxColumns + ` FROM sandboxes WHERE (? = '' OR team_id = ?)`
	if !includeStopped {
		q += ` AND state != 'stopped'`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC`, teamID, teamID)
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.Sandbox
	for rows.Next() {
		sb, err := scanSandbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, rows.Err()
}

// FindByName returns the live sandboxes of any team with this name.
func (s *Store) FindByName(ctx context.Context, name string) ([]*sandbox.Sandbox, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes WHERE name = ? AND state != 'stopped'`, name)
	if err != nil {
		return nil, fmt.Errorf("finding sandboxes named %q: %w", name, err)
	}
	defer rows.Close()
	var out []*sandbox.Sandbox
	for rows.Next() {
		sb, err := scanSandbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, rows.Err()
}

// LiveIPs returns the addresses held by sandboxes that are not stopped.
func (s *Store) LiveIPs(ctx context.Context) ([]netip.Addr, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ip FROM sandboxes WHERE state != 'stopped'`)
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	defer rows.Close()
	var out []netip.Addr
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			return nil, err
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanSandbox(r scanner) (*sandbox.Sandbox, error) {
	var (
		sb                             sandbox.Sandbox
		state, ip, env, meta, ports    string
		eg                             string
		idle, created, started, stoppd int64
	)
	err := r.Scan(&sb.ID, &sb.TeamID, &sb.Name, &sb.Template, &state, &sb.StopReason, &sb.VCPUs, &sb.MemoryMB,
		&sb.DiskMB, &ip, &sb.Secret, &sb.NextSecret, &idle, &env, &meta, &created, &started, &stoppd,
		&sb.Public, &ports, &sb.AccessToken, &sb.PasswordHash, &sb.Desktop, &eg)
	if err != nil {
		return nil, err
	}
	sb.State = sandbox.State(state)
	sb.IdleTimeout = time.Duration(idle) * time.Millisecond
	sb.IP, _ = netip.ParseAddr(ip)
	sb.CreatedAt, sb.StartedAt, sb.StoppedAt = fromUnix(created), fromUnix(started), fromUnix(stoppd)
	if err := json.Unmarshal([]byte(ports), &sb.Ports); err != nil {
		return nil, fmt.Errorf("decoding ports of %s: %w", sb.ID, err)
	}
	if err := json.Unmarshal([]byte(env), &sb.Env); err != nil {
		return nil, fmt.Errorf("decoding env of %s: %w", sb.ID, err)
	}
	if err := json.Unmarshal([]byte(eg), &sb.Egress); err != nil {
		return nil, fmt.Errorf("decoding egress policy of %s: %w", sb.ID, err)
	}
	if err := json.Unmarshal([]byte(meta), &sb.Metadata); err != nil {
		return nil, fmt.Errorf("decoding metadata of %s: %w", sb.ID, err)
	}
	return &sb, nil
}

func encodeMaps(sb *sandbox.Sandbox) (env, meta string, err error) {
	e, err := json.Marshal(orEmpty(sb.Env))
	if err != nil {
		return "", "", fmt.Errorf("encoding env: %w", err)
	}
	m, err := json.Marshal(orEmpty(sb.Metadata))
	if err != nil {
		return "", "", fmt.Errorf("encoding metadata: %w", err)
	}
	return string(e), string(m), nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func encodePorts(ports []int) (string, error) {
	if ports == nil {
		ports = []int{}
	}
	b, err := json.Marshal(ports)
	if err != nil {
		return "", fmt.Errorf("encoding ports: %w", err)
	}
	return string(b), nil
}
