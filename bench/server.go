package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	_ "modernc.org/sqlite" // reads the server's database for agent secrets

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// server is the runtools server under test, a child process with a data
// directory, bridge and subnet of its own.
type server struct {
	bin, runsc, dataDir, bridge string
	cmd                         *exec.Cmd
	exited                      chan struct{}
	log                         *logBuffer
	c                           *client.Client
	db                          *sql.DB
	platform                    string // as the server logged it
	proxyAddr, sshAddr          string // loopback addresses of the dev-server proxy and the SSH gateway
	addr, key                   string // the API's address and key, for clients other than the SDK
}

// startServer starts the server and waits until its API answers.
func startServer(ctx context.Context, cfg config, dataDir string) (*server, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	addr, proxyAddr, sshAddr := addrs[0], addrs[1], addrs[2]
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making an API key: %w", err)
	}
	s := &server{bin: cfg.binary, runsc: cfg.runsc, dataDir: dataDir, bridge: cfg.bridge, exited: make(chan struct{}), log: &logBuffer{},
		proxyAddr: proxyAddr, sshAddr: sshAddr, addr: addr, key: hex.EncodeToString(key)}
	args := []string{"server", "--data-dir", dataDir, "--listen", addr, "--template-dir", cfg.templateDir,
		"--runsc", cfg.runsc, "--platform", cfg.platform, "--bridge", cfg.bridge, "--subnet", cfg.subnet,
		"--proxy-listen", proxyAddr, "--ssh-listen", sshAddr, "--build-templates=false"}
	s.cmd = exec.Command(cfg.binary, args...)
	s.cmd.Env = append(os.Environ(), "RUNTOOLS_API_KEY="+s.key)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.binary, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if s.c, err = client.New("http://"+addr, s.key); err != nil {
		return s, fmt.Errorf("making a client: %w", err)
	}
	if err := s.waitReady(ctx); err != nil {
		return s, err
	}
	m := regexp.MustCompile(`gVisor runtime ready.* platform=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		return s, fmt.Errorf("server did not log its gVisor platform:\n%s", s.log.String())
	}
	s.platform = m[1]
	dsn := "file:" + filepath.Join(dataDir, "runtools.db") + "?mode=ro&_pragma=busy_timeout(5000)"
	if s.db, err = sql.Open("sqlite", dsn); err != nil {
		return s, fmt.Errorf("opening the server's database: %w", err)
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := s.c.Me(cctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("server exited at start:\n%s", s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not answer within 60s: %w\n%s", err, s.log.String())
		}
	}
}

// createFirstExec creates a sandbox from template and runs `true` in it,
// timing the whole and, from the server's own timestamps and the bundle
// file, its phases. The sandbox's id is returned even on failure.
func (s *server) createFirstExec(ctx context.Context, template string) (trial, error) {
	t0 := time.Now()
	sb, err := s.c.Create(ctx, client.CreateRequest{Template: template})
	if err != nil {
		return trial{}, fmt.Errorf("creating a %s sandbox: %w", template, err)
	}
	t1 := time.Now()
	tr := trial{remove: func(ctx context.Context) error { return s.destroy(ctx, sb) }}
	if err := s.execTrue(ctx, sb.ID); err != nil {
		return tr, err
	}
	t2 := time.Now()
	tr.total = t2.Sub(t0)
	tr.phases = s.createPhases(ctx, sb, t0, t1, t2)
	return tr, nil
}

// destroy destroys a sandbox, then deletes the host's neighbor (ARP) entry
// for its address. The daemon leaves that entry behind, still pointing at
// the destroyed sandbox's MAC, and the next sandbox given the address gets
// a new MAC: without this step it is unreachable until the kernel gives up
// on the entry, 20 to 30 s later (see checkAddressReuse).
func (s *server) destroy(ctx context.Context, sb *client.Sandbox) error {
	if err := s.c.Destroy(ctx, sb.ID); err != nil {
		return fmt.Errorf("destroying %s: %w", sb.ID, err)
	}
	return s.forgetNeighbor(ctx, sb.IP)
}

// forgetNeighbor deletes the neighbor entry for ip on the server's bridge,
// if there is one.
func (s *server) forgetNeighbor(ctx context.Context, ip string) error {
	out, err := command(ctx, "ip", "neigh", "show", ip, "dev", s.bridge)
	if err != nil || strings.TrimSpace(out) == "" {
		return err
	}
	_, err = command(ctx, "ip", "neigh", "del", ip, "dev", s.bridge)
	return err
}

// execTrue runs `true` through the API and checks it ran.
func (s *server) execTrue(ctx context.Context, id string) error {
	res, err := s.c.Exec(ctx, id, client.ExecRequest{Cmd: []string{"true"}})
	if err != nil {
		return fmt.Errorf("exec true in %s: %w", id, err)
	}
	if res.ExitCode != 0 || res.Error != "" {
		return fmt.Errorf("exec true in %s: exit code %d: %s", id, res.ExitCode, res.Error)
	}
	return nil
}

// agent returns a client for the agent of sandbox id, with the address and
// secret the server recorded for it. Agent routes are not public API.
func (s *server) agent(ctx context.Context, id string) (*agentclient.Client, error) {
	var ip, secret string
	err := s.db.QueryRowContext(ctx, "SELECT ip, secret FROM sandboxes WHERE id = ?", id).Scan(&ip, &secret)
	if err != nil {
		return nil, fmt.Errorf("reading the agent address of %s from the server's database: %w", id, err)
	}
	return agentclient.New(fmt.Sprintf("http://%s:%d", ip, agentapi.Port), secret), nil
}

// agentExecTrue runs `true` through the agent directly, bypassing the server.
func agentExecTrue(ctx context.Context, a *agentclient.Client) error {
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

// bundleSpecPath is where the server wrote the OCI spec of sandbox id.
func (s *server) bundleSpecPath(id string) string {
	return filepath.Join(s.dataDir, "sandboxes", id, "bundle", "config.json")
}

// rootfs is the template root filesystem the server gave sandbox id, from
// its OCI spec.
func (s *server) rootfs(id string) (string, error) {
	data, err := os.ReadFile(s.bundleSpecPath(id))
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

// stop destroys the server's sandboxes, stops it, and removes whatever it
// left on the host: runsc containers, namespaces, firewall tables, bridge.
func (s *server) stop(ctx context.Context) error {
	var errs []error
	select {
	case <-s.exited:
	default:
		if list, err := s.c.List(ctx); err == nil {
			for _, sb := range list {
				if sb.State != client.StateStopped {
					if err := s.c.Destroy(ctx, sb.ID); err != nil {
						errs = append(errs, fmt.Errorf("destroying %s: %w", sb.ID, err))
					}
				}
			}
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.db != nil {
		s.db.Close()
	}
	root := filepath.Join(s.dataDir, "runsc")
	if out, err := command(ctx, s.runsc, "--root="+root, "list", "--quiet"); err == nil {
		for _, id := range strings.Fields(out) {
			errs = append(errs, fmt.Errorf("runsc container %s left behind", id))
			if _, err := command(ctx, s.runsc, "--root="+root, "delete", "--force", id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, removeNetns(ctx, s.bridge+"-"), removeServerNetwork(ctx, s.bridge))
	return errors.Join(errs...)
}

// removeServerNetwork deletes the firewall tables and the bridge that a
// server with this bridge name made (see internal/network/firewall.go).
func removeServerNetwork(ctx context.Context, bridge string) error {
	var errs []error
	tables, err := command(ctx, "nft", "list", "tables")
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range []string{"inet runtools_" + bridge, "ip runtools_" + bridge + "_nat", "bridge runtools_" + bridge + "_ports"} {
		if strings.Contains(tables+"\n", "table "+t+"\n") {
			if _, err := command(ctx, "nft", append([]string{"delete", "table"}, strings.Fields(t)...)...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, deleteLink(ctx, bridge))
	return errors.Join(errs...)
}

// freeAddrs returns n distinct free loopback addresses: the API's, the
// proxy's and the SSH gateway's.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close() // held until all are found, so they differ
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// logBuffer keeps the server's output; safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
