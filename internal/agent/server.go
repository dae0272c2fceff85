package agent

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Server is the agent's HTTP API. It implements http.Handler; every route
// requires the bearer token.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    atomic.Pointer[[]byte] // the whole expected Authorization header
	started time.Time
	mux     *http.ServeMux
	spawner *spawner
	procs   *table
	users   userDB
	recent  recent // program paths and home directories seen lately
	// sessions are the attach and SFTP connections, which net/http no
	// longer tracks once upgraded.
	sessions sessions
}

var _ http.Handler = (*Server)(nil)

// NewServer returns the agent API for cfg. It fails when cfg.Token is empty.
func NewServer(cfg Config, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log = log.With("component", "agent")
	s := &Server{
		cfg:     cfg,
		log:     log,
		started: time.Now(),
		mux:     http.NewServeMux(),
		spawner: newSpawner(cfg.Nproc, log),
		procs:   newTable(),
		users: userDB{passwd: "/etc/passwd", group: "/etc/group",
			passwdC: &cached[[]passwdEntry]{}, groupC: &cached[[]groupEntry]{}},
	}
	s.setToken(cfg.Token)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	for pattern, h := range map[string]fallible{
		"GET /health":                  s.handleHealth,
		"POST /exec":                   s.handleExec,
		"GET /processes":               s.handleProcesses,
		"GET /pids":                    s.handlePids,
		"GET /processes/{pid}/output":  s.handleOutput,
		"POST /processes/{pid}/signal": s.handleSignal,
		"POST /processes/{pid}/stdin":  s.handleStdin,
		"GET /files":                   onPath(s.readFile),
		"PUT /files":                   s.handleWriteFile,
		"DELETE /files":                s.handleRemove,
		"GET /files/stat":              onPath(writeFileInfo),
		"GET /files/list":              onPath(listDir),
		"POST /files/mkdir":            s.handleMkdir,
		"GET /files/archive":           s.handleReadArchive,
		"PUT /files/archive":           s.handleWriteArchive,
		"GET /debug/spawn":             s.handleSpawn,
		"POST /token":                  s.handleToken,
		"POST /attach":                 s.handleAttach,
		"POST /sftp":                   s.handleSFTP,
		"POST /forward":                s.handleForward,
	} {
		s.mux.Handle(pattern, h)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no route %s %s", errdefs.ErrNotFound, r.Method, r.URL.Path))
	})
}

// ServeHTTP checks the bearer token, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), *s.auth.Load()) != 1 {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, fmt.Errorf("%w: missing or wrong bearer token", errdefs.ErrUnauthenticated))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve serves the API on ln until ctx is done, then kills every process the
// agent still runs and shuts the HTTP server down. It returns nil after a
// shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler: s,
		// Exec and output streams and file transfers may last for hours, so
		// there is no read or write timeout, only one for request headers.
		ReadHeaderTimeout: 10 * time.Second,
		// Longer than the client's idle timeout, so the client never reuses
		// a connection the agent is closing.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("serving agent API: %w", err)
	case <-ctx.Done():
	}
	// Killing the processes first ends their streams, so Shutdown does not
	// have to wait for them.
	s.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving agent API: %w", err)
	}
	return nil
}

// Close kills the process group of every process the agent started that is
// still running, and ends every attach and SFTP session.
func (s *Server) Close() {
	for _, p := range s.procs.running() {
		p.kill()
	}
	s.sessions.closeAll()
}
