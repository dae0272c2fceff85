package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/pkg/sftp"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// The SFTP server for a user other than root runs in a child process: the
// agent's own binary, started as that user through /proc/self/exe with this
// argv[0] and this variable set, serves SFTP on its stdin (the caller's
// connection) and exits. Credentials then come from the kernel, as for any
// exec; the agent's threads never change identity. The binary must be
// executable by the user; reached through the magic link, the directories
// on its path need not be searchable.
const (
	sftpChildArg0 = "runtools-agent-sftp"
	sftpChildEnv  = "RUNTOOLS_AGENT_SFTP_CHILD"
)

// init turns the process into an SFTP server when the agent started it as
// one (see sftpChildArg0), before anything else of the program runs. Both
// markers are needed, so no ordinary start of the binary can trigger it;
// whoever sets them gets an SFTP server with their own permissions on their
// own stdin, nothing more.
func init() {
	if len(os.Args) == 1 && os.Args[0] == sftpChildArg0 && os.Getenv(sftpChildEnv) == "1" {
		os.Exit(sftpChildMain())
	}
}

func sftpChildMain() int {
	runtime.GOMAXPROCS(1) // as the agent itself, see Run
	conn, err := net.FileConn(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: stdin is not the connection: %v\n", sftpChildArg0, err)
		return 2
	}
	os.Stdin.Close()
	dir, err := os.Getwd()
	if err != nil {
		dir = "/"
	}
	if err := serveSFTP(conn, conn, dir); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", sftpChildArg0, err)
		return 1
	}
	return 0
}

// handleSFTP serves the SFTP protocol (version 3, as OpenSSH's sftp and scp
// speak it) on the connection after "101 Switching Protocols"
// (agentapi.UpgradeSFTP), on the sandbox's file system, as the user in the
// "user" query parameter (default root) and starting in their home. The
// session ends when the client closes the connection.
//
// Root's server runs inside the agent. Any other user's runs in a child
// process with that user's credentials (see sftpChildArg0), so file access
// is checked against, and new files are owned by, that user.
func (s *Server) handleSFTP(w http.ResponseWriter, r *http.Request) error {
	if err := checkUpgrade(r, agentapi.UpgradeSFTP); err != nil {
		return err
	}
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4096))
	u, err := s.users.lookup(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	cred, err := credential(u)
	if err != nil {
		return err
	}
	dir, err := s.workDir("", u)
	if err != nil {
		return err
	}
	conn, br, err := hijack(w)
	if err != nil {
		return err
	}
	if cred != nil && (cred.Uid != 0 || cred.Gid != 0) {
		s.sftpChild(conn, br, u, cred, dir)
		return nil
	}
	untrack, ok := s.startSession(conn, agentapi.UpgradeSFTP, func() { conn.Close() })
	if !ok {
		return nil
	}
	defer untrack()
	s.log.Debug("sftp session started", "user", u.Name)
	if err := serveSFTP(br, conn, dir); err != nil {
		s.log.Debug("sftp session ended", "user", u.Name, "err", err)
	}
	return nil
}

// sftpChild serves SFTP on conn from a child process running as u.
func (s *Server) sftpChild(conn net.Conn, br *bufio.Reader, u *user, cred *syscall.Credential, dir string) {
	defer conn.Close() // the agent's copy: the child has its own
	fail := func(err error) {
		s.log.Warn("sftp server did not start", "user", u.Name, "err", err)
		writeRawError(conn, err)
	}
	if br.Buffered() > 0 {
		// Bytes the agent has read already would never reach the child.
		fail(fmt.Errorf("%w: data sent before 101 Switching Protocols", errdefs.ErrInvalidArgument))
		return
	}
	fc, ok := conn.(interface{ File() (*os.File, error) })
	if !ok {
		fail(fmt.Errorf("connection %T has no file descriptor to pass on", conn))
		return
	}
	f, err := fc.File()
	if err != nil {
		fail(fmt.Errorf("passing the connection on: %w", err))
		return
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{sftpChildArg0},
		Env: []string{
			sftpChildEnv + "=1", "PATH=" + defaultPath,
			"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name,
		},
		Dir:    dir,
		Stdin:  f,
		Stderr: os.Stderr, // the agent's log
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:    true,
			Credential: cred,
		},
	}
	err = s.spawner.start(cmd)
	f.Close()
	if err != nil {
		fail(startError("sftp server", err))
		return
	}
	pid := cmd.Process.Pid
	if untrack, ok := s.sessions.add(func() { syscall.Kill(-pid, syscall.SIGKILL) }); ok {
		defer untrack()
		// The child only writes once the client has sent its first
		// packet, which it does after this answer.
		io.WriteString(conn, switching(agentapi.UpgradeSFTP))
	}
	conn.Close()
	s.log.Debug("sftp server started", "pid", pid, "user", u.Name)
	if err := s.spawner.wait(cmd); err != nil {
		s.log.Warn("sftp server failed", "pid", pid, "user", u.Name, "err", err)
	}
}

// serveSFTP serves SFTP, reading from r and writing to conn, with relative
// paths resolved against dir, until the client closes the connection; then
// it closes conn.
func serveSFTP(r io.Reader, conn io.WriteCloser, dir string) error {
	srv, err := sftp.NewServer(readWriteCloser{r, conn}, sftp.WithServerWorkingDirectory(dir))
	if err != nil {
		conn.Close()
		return fmt.Errorf("starting sftp server: %w", err)
	}
	err = srv.Serve()
	srv.Close()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

type readWriteCloser struct {
	io.Reader
	io.WriteCloser
}
