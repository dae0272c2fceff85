// Package s3test starts throwaway S3-compatible object stores: SeaweedFS's
// `weed server -s3` (scripts/weed.sh builds it into
// /usr/local/lib/runtools/weed), with its data in a directory of the
// caller's, on free loopback ports, without credentials. Start gives a
// test one, stopped at its end; New gives one to any program (the bench's
// cluster section), stopped by Close.
//
// Without the binary, tests are skipped, unless RUNTOOLS_INTEGRATION=1
// (as `make test` runs), where that is a failure.
package s3test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Weed is SeaweedFS's program, as scripts/weed.sh installs it.
const Weed = "/usr/local/lib/runtools/weed"

// Server is a throwaway S3 server.
type Server struct {
	Endpoint string // HOST:PORT of its S3 API
	cmd      *exec.Cmd
	exited   chan struct{}
	log      *os.File
}

// Start starts a server for the test, with its data in a temporary
// directory, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Weed); err != nil {
		if os.Getenv("RUNTOOLS_INTEGRATION") == "1" {
			t.Fatalf("no S3 server for the cluster tests: %v (scripts/weed.sh builds it; make setup runs it)", err)
		}
		t.Skipf("no S3 server: %v (run scripts/weed.sh)", err)
	}
	s, err := New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a server with its data and its log (weed.log) in dir, which
// the caller removes after Close, and waits up to two minutes until its
// S3 API answers. The server is a process group of its own, killed with
// the caller's process; Close stops it.
func New(ctx context.Context, dir string) (*Server, error) {
	if _, err := os.Stat(Weed); err != nil {
		return nil, fmt.Errorf("no S3 server: %w (scripts/weed.sh builds it; make setup runs it)", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(Weed, "server", "-dir="+dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+ports[1], "-master.port.grpc="+ports[2], "-volume.port="+ports[3], "-volume.port.grpc="+ports[4],
		"-filer.port="+ports[5], "-s3", "-s3.port="+ports[0], "-master.volumeSizeLimitMB=1024", "-volume.max=0")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %w", Weed, err)
	}
	s := &Server{Endpoint: net.JoinHostPort("127.0.0.1", ports[0]), cmd: cmd, exited: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, 2*time.Minute); err != nil {
		s.Close()
		return nil, fmt.Errorf("the S3 server did not start: %w\n%s", err, s.logs())
	}
	return s, nil
}

// URL is the object store URL of a bucket on the server.
func (s *Server) URL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&insecure=true", bucket, s.Endpoint)
}

func (s *Server) waitReady(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("it exited: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) logs() string {
	b, _ := os.ReadFile(s.log.Name())
	return string(b)
}

// Close stops the server: SIGTERM to its process group, SIGKILL after
// ten seconds.
func (s *Server) Close() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	s.log.Close()
}

// freePorts returns n free loopback ports, held until all are chosen.
func freePorts(n int) ([]string, error) {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close()
		out = append(out, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return out, nil
}
