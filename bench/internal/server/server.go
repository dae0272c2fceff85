// Package server starts the runtools server under test as a child process
// with a data directory, bridge and subnet of its own, drives it through
// the Go SDK, and reads what it leaves on disk and in its log to tell the
// phases of its operations.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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

	_ "modernc.org/sqlite" // reads the server's database for agent secrets

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/client"
)

// Config is how to start the server.
type Config struct {
	Binary, Runsc, TemplateDir string
	Platform                   string // "auto" lets the server pick
	Bridge, Subnet             string
	// Key is the admin API key; "" makes a random one. The nodes of one
	// cluster share theirs.
	Key string
	// Extra are more flags, such as a cluster node's (--cluster ...).
	Extra []string
}

// Server is the runtools server under test.
type Server struct {
	Client             *client.Client
	DataDir, Bridge    string
	Runsc              string
	Platform           string // as the server logged it
	ProxyAddr, SSHAddr string // loopback addresses of the dev-server proxy and the SSH gateway
	Addr, Key          string // the API's address and key, for clients other than the SDK

	cmd    *exec.Cmd
	exited chan struct{}
	log    *logBuffer
	db     *sql.DB
}

// Start starts the server and waits until its API answers. A server is
// returned even on failure once its process exists, for Stop.
func Start(ctx context.Context, cfg Config, dataDir string) (*Server, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	if cfg.Key == "" {
		if cfg.Key, err = NewKey(); err != nil {
			return nil, err
		}
	}
	s := &Server{Runsc: cfg.Runsc, DataDir: dataDir, Bridge: cfg.Bridge, exited: make(chan struct{}), log: &logBuffer{},
		Addr: addrs[0], ProxyAddr: addrs[1], SSHAddr: addrs[2], Key: cfg.Key}
	args := append([]string{"server", "--data-dir", dataDir, "--listen", s.Addr, "--template-dir", cfg.TemplateDir,
		"--runsc", cfg.Runsc, "--platform", cfg.Platform, "--bridge", cfg.Bridge, "--subnet", cfg.Subnet,
		"--proxy-listen", s.ProxyAddr, "--ssh-listen", s.SSHAddr, "--build-templates=false"}, cfg.Extra...)
	s.cmd = exec.Command(cfg.Binary, args...)
	s.cmd.Env = append(os.Environ(), "RUNTOOLS_API_KEY="+s.Key)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Binary, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if s.Client, err = client.New("http://"+s.Addr, s.Key); err != nil {
		return s, fmt.Errorf("making a client: %w", err)
	}
	if err := s.waitReady(ctx); err != nil {
		return s, err
	}
	m := regexp.MustCompile(`gVisor runtime ready.* platform=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		return s, fmt.Errorf("server did not log its gVisor platform:\n%s", s.log.String())
	}
	s.Platform = m[1]
	db := filepath.Join(dataDir, "runtools.db")
	if _, err := os.Stat(db); err != nil {
		return s, nil // a cluster node's records are in PostgreSQL
	}
	if s.db, err = sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)"); err != nil {
		return s, fmt.Errorf("opening the server's database: %w", err)
	}
	return s, nil
}

// NewKey makes a random API key.
func NewKey() (string, error) {
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("making an API key: %w", err)
	}
	return hex.EncodeToString(key), nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := s.Client.Me(cctx)
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

// Pid is the server process's id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Log is everything the server has written so far.
func (s *Server) Log() string { return s.log.String() }

// Stop destroys the server's sandboxes, stops it, and removes whatever it
// left on the host: runsc containers, namespaces, firewall tables, bridge.
func (s *Server) Stop(ctx context.Context) error {
	var errs []error
	select {
	case <-s.exited:
	default:
		errs = append(errs, s.destroyAll(ctx)...)
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
	root := filepath.Join(s.DataDir, "runsc")
	if out, err := host.Command(ctx, s.Runsc, "--root="+root, "list", "--quiet"); err == nil {
		for _, id := range strings.Fields(out) {
			errs = append(errs, fmt.Errorf("runsc container %s left behind", id))
			if _, err := host.Command(ctx, s.Runsc, "--root="+root, "delete", "--force", id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, host.RemoveNetns(ctx, s.Bridge+"-"), removeServerNetwork(ctx, s.Bridge))
	return errors.Join(errs...)
}

// destroyAll destroys every sandbox the server has, stopped ones too.
func (s *Server) destroyAll(ctx context.Context) []error {
	list, err := s.Client.List(ctx)
	if err != nil {
		return nil
	}
	var errs []error
	for _, sb := range list {
		if sb.State != client.StateDestroyed {
			if err := s.Client.Destroy(ctx, sb.ID); err != nil {
				errs = append(errs, fmt.Errorf("destroying %s: %w", sb.ID, err))
			}
		}
	}
	return errs
}

// removeServerNetwork deletes the firewall tables and the bridge that a
// server with this bridge name made (see internal/network/firewall.go).
func removeServerNetwork(ctx context.Context, bridge string) error {
	var errs []error
	tables, err := host.Command(ctx, "nft", "list", "tables")
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range []string{"inet runtools_" + bridge, "ip runtools_" + bridge + "_nat", "bridge runtools_" + bridge + "_ports"} {
		if strings.Contains(tables+"\n", "table "+t+"\n") {
			if _, err := host.Command(ctx, "nft", append([]string{"delete", "table"}, strings.Fields(t)...)...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, host.DeleteLink(ctx, bridge))
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
