package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// startDir holds a template's start hooks: executables the agent starts, in
// name order, as background processes (listed by GET /processes, their
// output kept like any background process's) when a sandbox boots. A
// template uses them for its services, such as the desktop's X server and
// VNC. They do not run again after a restore: the restored processes are
// the running services. A variable so tests can point it elsewhere.
var startDir = "/etc/runtools/start.d"

// runStartHooks starts the hooks in startDir. Failures are logged: a
// service that does not start makes the sandbox degraded, not useless.
func (s *Server) runStartHooks(log *slog.Logger) {
	entries, err := os.ReadDir(startDir)
	if err != nil {
		if !os.IsNotExist(err) {
			log.Warn("reading start hooks", "dir", startDir, "err", err)
		}
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(startDir, name)
		p, err := s.launch(&agentapi.ExecRequest{Cmd: []string{path}, Cwd: "/"}, true)
		if err != nil {
			log.Error("start hook did not start", "hook", path, "err", err)
			continue
		}
		log.Info("start hook started", "hook", path, "pid", p.pid)
	}
}
