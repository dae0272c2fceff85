package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/disk"
)

// CreateFirstExec creates a sandbox from template and runs `true` in it,
// timing the whole and, from the server's own timestamps and the bundle
// file, its phases. The sandbox's removal is returned even on failure.
func (s *Server) CreateFirstExec(ctx context.Context, template string) (measure.Trial, error) {
	t0 := time.Now()
	sb, err := s.Client.Create(ctx, client.CreateRequest{Template: template})
	if err != nil {
		return measure.Trial{}, fmt.Errorf("creating a %s sandbox: %w", template, err)
	}
	t1 := time.Now()
	tr := measure.Trial{Remove: func(ctx context.Context) error { return s.Destroy(ctx, sb) }}
	if err := s.ExecTrue(ctx, sb.ID); err != nil {
		return tr, err
	}
	t2 := time.Now()
	tr.Total = t2.Sub(t0)
	tr.Phases = s.createPhases(ctx, sb, t0, t1, t2)
	return tr, nil
}

// CreateIdle creates a sandbox from template that the daemon never pauses
// by itself (idle timeout 0).
func (s *Server) CreateIdle(ctx context.Context, template string) (*client.Sandbox, error) {
	zero := 0
	return s.Client.Create(ctx, client.CreateRequest{Template: template, IdleTimeout: &zero})
}

// Destroy destroys a sandbox, then deletes the host's neighbor (ARP) entry
// for its address. The daemon leaves that entry behind, still pointing at
// the destroyed sandbox's MAC, and the next sandbox given the address gets
// a new MAC: without this step it is unreachable until the kernel gives up
// on the entry, 20 to 30 s later (see the reuse section).
func (s *Server) Destroy(ctx context.Context, sb *client.Sandbox) error {
	if err := s.Client.Destroy(ctx, sb.ID); err != nil {
		return fmt.Errorf("destroying %s: %w", sb.ID, err)
	}
	return s.ForgetNeighbor(ctx, sb.IP)
}

// ForgetNeighbor deletes the neighbor entry for ip on the server's bridge,
// if there is one.
func (s *Server) ForgetNeighbor(ctx context.Context, ip string) error {
	out, err := host.Command(ctx, "ip", "neigh", "show", ip, "dev", s.Bridge)
	if err != nil || strings.TrimSpace(out) == "" {
		return err
	}
	_, err = host.Command(ctx, "ip", "neigh", "del", ip, "dev", s.Bridge)
	return err
}

// ExecTrue runs `true` through the API and checks it ran.
func (s *Server) ExecTrue(ctx context.Context, id string) error {
	return ExecTrueWith(ctx, s.Client, id)
}

// ExecTrueWith runs `true` in sandbox id through c and checks it ran.
func ExecTrueWith(ctx context.Context, c *client.Client, id string) error {
	res, err := c.Exec(ctx, id, client.ExecRequest{Cmd: []string{"true"}})
	if err != nil {
		return fmt.Errorf("exec true in %s: %w", id, err)
	}
	if res.ExitCode != 0 || res.Error != "" {
		return fmt.Errorf("exec true in %s: exit code %d: %s", id, res.ExitCode, res.Error)
	}
	return nil
}

// Agent returns a client for the agent of sandbox id, with the address and
// secret the server recorded for it. Agent routes are not public API.
func (s *Server) Agent(ctx context.Context, id string) (*agentclient.Client, error) {
	if s.db == nil {
		return nil, fmt.Errorf("the agent address of %s: the server keeps no SQLite database", id)
	}
	var ip, secret string
	err := s.db.QueryRowContext(ctx, "SELECT ip, secret FROM sandboxes WHERE id = ?", id).Scan(&ip, &secret)
	if err != nil {
		return nil, fmt.Errorf("reading the agent address of %s from the server's database: %w", id, err)
	}
	return agentclient.New(fmt.Sprintf("http://%s:%d", ip, agentapi.Port), secret), nil
}

// AgentExecTrue runs `true` through the agent directly, bypassing the
// server.
func AgentExecTrue(ctx context.Context, a *agentclient.Client) error {
	code := -1
	err := a.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"true"}}, func(e agentapi.Event) error {
		switch {
		case e.Type == agentapi.EventError:
			return fmt.Errorf("agent: %s", e.Message)
		case e.Type == agentapi.EventExit && e.ExitCode != nil:
			code = *e.ExitCode
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("agent exec true: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("agent exec true: exit code %d", code)
	}
	return nil
}

// SandboxDir is the server's directory of sandbox id.
func (s *Server) SandboxDir(id string) string { return filepath.Join(s.DataDir, "sandboxes", id) }

// BundleSpecPath is where the server wrote the OCI spec of sandbox id.
func (s *Server) BundleSpecPath(id string) string {
	return filepath.Join(s.SandboxDir(id), "bundle", "config.json")
}

// Rootfs is the template root filesystem the server gave sandbox id: the
// lower directory of its durable disk (its OCI spec's root is then the
// disk's overlay, which the sandbox writes), or else its OCI spec's root.
func (s *Server) Rootfs(id string) (string, error) {
	if lower := disk.Lower(s.SandboxDir(id)); lower != "" {
		return lower, nil
	}
	data, err := os.ReadFile(s.BundleSpecPath(id))
	if err != nil {
		return "", fmt.Errorf("reading the OCI spec of %s: %w", id, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", fmt.Errorf("decoding the OCI spec of %s: %w", id, err)
	}
	if spec.Root == nil {
		return "", fmt.Errorf("the OCI spec of %s has no root", id)
	}
	return spec.Root.Path, nil
}
