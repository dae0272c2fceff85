package agent_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func sftpClient(t *testing.T, c *agentclient.Client, user string) *sftp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := c.SFTP(ctx, user)
	if err != nil {
		t.Fatalf("SFTP(%q): %v", user, err)
	}
	sc, err := sftp.NewClientPipe(conn, conn)
	if err != nil {
		conn.Close()
		t.Fatalf("SFTP handshake as %q: %v", user, err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

func TestSFTP(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	sc := sftpClient(t, c, "")
	dir := t.TempDir()

	if wd, err := sc.Getwd(); err != nil || (wd != "/root" && wd != "/") {
		t.Errorf("Getwd = %q, %v; want root's home", wd, err)
	}

	data := make([]byte, 5<<20)
	rand.Read(data)
	name := filepath.Join(dir, "big.bin")
	f, err := sc.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.ReadFrom(bytesReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("writing: %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(name); err != nil || sha256.Sum256(b) != sha256.Sum256(data) {
		t.Fatalf("file on disk differs (%d bytes, %v)", len(b), err)
	}

	f, err = sc.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := f.WriteTo(h); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if want := sha256.Sum256(data); string(h.Sum(nil)) != string(want[:]) {
		t.Error("read back a different file")
	}

	if err := sc.Mkdir(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	entries, err := sc.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"big.bin", "sub"}) {
		t.Errorf("ReadDir = %q", names)
	}
	fi, err := sc.Stat(name)
	if err != nil || fi.Size() != int64(len(data)) || !fi.Mode().IsRegular() {
		t.Errorf("Stat = %+v, %v", fi, err)
	}
	if err := sc.Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Remove: %v", err)
	}
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still on disk: %v", err)
	}

	if _, err := c.SFTP(context.Background(), "no-such-user"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("unknown user: %v", err)
	}
}

// TestSFTPAsUser: another user's SFTP server has that user's permissions
// and creates files they own.
func TestSFTPAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	t.Parallel()
	c, _ := startAgent(t, agent.Config{Nproc: 64})
	// A directory nobody may write to, on a path nobody may search.
	shared, err := os.MkdirTemp("", "agent-sftp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	os.Chmod(shared, 0o777)
	private := t.TempDir()

	sc := sftpClient(t, c, "nobody")
	name := filepath.Join(shared, "mine")
	f, err := sc.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "hello")
	f.Close()
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 65534 || sys.Gid != 65534 {
		t.Errorf("file owned by %d:%d, want nobody's 65534:65534", sys.Uid, sys.Gid)
	}
	if _, err := sc.Create(filepath.Join(private, "nope")); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("creating in root's private directory as nobody: %v", err)
	}
	if _, err := sc.Open("/etc/shadow"); err == nil {
		t.Error("nobody opened /etc/shadow")
	}
	if wd, err := sc.Getwd(); err != nil || wd != "/" {
		t.Errorf("Getwd = %q, %v; want / (nobody's home does not exist)", wd, err)
	}
}

func bytesReader(b []byte) io.Reader {
	return &sliceReader{b: b}
}

// sliceReader is a plain io.Reader (no WriterTo or Size), like a network
// stream.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
