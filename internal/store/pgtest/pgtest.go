// Package pgtest starts throwaway PostgreSQL servers for tests: Debian's
// PostgreSQL 15, run as the postgres system user, with its data and its
// unix socket in a temporary directory (no TCP port), stopped at the end.
// New and CreateDatabase serve any program (the bench's cluster section)
// as well; Close stops the server and removes its files.
//
// Tests need root and the server's binaries; without them they are
// skipped, unless RUNTOOLS_INTEGRATION=1 (as `make test` runs), where
// that is a failure.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir holds Debian's PostgreSQL 15 programs.
const BinDir = "/usr/lib/postgresql/15/bin"

// Server is a PostgreSQL server of the tests'.
type Server struct {
	dir  string // owned by postgres: data/, the socket, log
	cred *syscall.Credential

	mu   sync.Mutex
	cmd  *exec.Cmd // nil while stopped
	done chan error
	dbs  int // databases made by NewDatabase
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Main runs a package's tests (call it from TestMain), then stops the
// server Shared started, if a test asked for it.
func Main(m *testing.M) {
	code := m.Run()
	if shared.s != nil {
		shared.s.Close()
	}
	os.Exit(code)
}

// Shared returns the server the package's tests share, started at first
// use; each test makes its own database there with NewDatabase. The
// package's TestMain must call Main.
func Shared(t testing.TB) *Server {
	t.Helper()
	skipUnlessAvailable(t)
	shared.once.Do(func() { shared.s, shared.err = New(context.Background()) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s
}

// Start starts a server of the test's own, closed at its end.
func Start(t testing.TB) *Server {
	t.Helper()
	skipUnlessAvailable(t)
	s, err := New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func skipUnlessAvailable(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "PostgreSQL tests run as root (they run the server as the postgres user)"
	} else if _, err := os.Stat(filepath.Join(BinDir, "postgres")); err != nil {
		why = "PostgreSQL 15 is not installed (apt-get install postgresql)"
	}
	if why == "" {
		return
	}
	if os.Getenv("RUNTOOLS_INTEGRATION") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// New creates a database cluster in a new temporary directory and starts
// a server on it. Close stops it and removes the directory.
func New(ctx context.Context) (*Server, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("finding the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if err := os.Chown(dir, uid, gid); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	initdb := s.command(ctx, "initdb", "-D", s.dataDir(), "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	if err := s.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(BinDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	// The server must not outlive the tests, even killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// Start starts the server (again) and waits until it takes connections.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("the PostgreSQL server is running already")
	}
	log, err := os.OpenFile(filepath.Join(s.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// Not a child of ctx: the server runs until Stop or Close.
	cmd := s.command(context.WithoutCancel(ctx), "postgres", "-D", s.dataDir(), "-k", s.dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func(done chan error) { done <- cmd.Wait() }(s.done)
	return s.waitReady(ctx)
}

// waitReady waits until the server takes connections, or has exited.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			return c.Close(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL did not start: %w; its log: %s", err, s.log())
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("PostgreSQL exited at start (%v); its log: %s", err, s.log())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops the server (a fast shutdown: clients are disconnected,
// committed transactions kept) and waits until it has exited.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return fmt.Errorf("stopping postgres: %w", err)
	}
	err := <-s.done
	s.cmd = nil
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("postgres exited with %v; its log: %s", err, s.log())
	}
	return err
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}

// URL returns the address of database name on the server.
func (s *Server) URL(name string) string {
	return "postgres://postgres@/" + name + "?host=" + s.dir + "&sslmode=disable"
}

// NewDatabase creates an empty database for the test and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("test_%d", s.dbs)
	s.mu.Unlock()
	url, err := s.CreateDatabase(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// CreateDatabase creates an empty database named name and returns its
// URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	// A file copy of the template is quicker than the default (WAL_LOG) for
	// small databases.
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" STRATEGY FILE_COPY"); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return s.URL(name), nil
}
