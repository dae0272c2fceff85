// Package s3test starts throwaway S3-compatible object stores for tests:
// SeaweedFS's `weed server -s3` (scripts/weed.sh builds it into
// /usr/local/lib/runtools/weed), with its data in a temporary directory,
// on free loopback ports, without credentials, stopped at the end.
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

// Server is an S3 server of the tests'.
type Server struct {
	Endpoint string // HOST:PORT of its S3 API
	cmd      *exec.Cmd
	log      *os.File
}

// Start starts a server for the test, stopped when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Weed); err != nil {
		if os.Getenv("RUNTOOLS_INTEGRATION") == "1" {
			t.Fatalf("no S3 server for the cluster tests: %v (scripts/weed.sh builds it; make setup runs it)", err)
		}
		t.Skipf("no S3 server: %v (run scripts/weed.sh)", err)
	}
	dir := t.TempDir()
	ports := freePorts(t, 6)
	s3 := ports[0]
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Weed, "server", "-dir="+dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+ports[1], "-master.port.grpc="+ports[2], "-volume.port="+ports[3], "-volume.port.grpc="+ports[4],
		"-filer.port="+ports[5], "-s3", "-s3.port="+s3, "-master.volumeSizeLimitMB=1024", "-volume.max=0")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Endpoint: net.JoinHostPort("127.0.0.1", s3), cmd: cmd, log: log}
	t.Cleanup(s.stop)
	if err := s.waitReady(2 * time.Minute); err != nil {
		t.Fatalf("the S3 server did not start: %v\n%s", err, s.logs())
	}
	return s
}

// URL is the object store URL of a bucket on the server.
func (s *Server) URL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&insecure=true", bucket, s.Endpoint)
}

func (s *Server) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *Server) logs() string {
	b, _ := os.ReadFile(s.log.Name())
	return string(b)
}

func (s *Server) stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.log.Close()
}

// freePorts returns n free loopback ports, held until all are chosen.
func freePorts(t testing.TB, n int) []string {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return out
}
