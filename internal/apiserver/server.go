// Package apiserver serves the runtools HTTP API under /v1: routes,
// authentication, conversion between wire and domain types, and the one
// place where errors become HTTP statuses.
package apiserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
	"github.com/runtools/runtools/internal/webhook"
)

// Sandboxes is what the API needs from the sandbox manager.
type Sandboxes interface {
	Create(ctx context.Context, teamID string, opts sandbox.CreateOptions) (*sandbox.Sandbox, error)
	Get(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	// ListFiltered lists a team's sandboxes that carry every label given.
	ListFiltered(ctx context.Context, teamID string, includeDestroyed bool, labels map[string]string) ([]*sandbox.Sandbox, error)
	Destroy(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	Exec(ctx context.Context, teamID, ref string, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) error
	Start(ctx context.Context, teamID, ref string, req agentapi.ExecRequest) (int, error)
	// Open wakes the sandbox if needed and holds it busy until the
	// session is closed: every agent call goes through one.
	Open(ctx context.Context, teamID, ref string) (*sandbox.Session, error)
	Pause(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	Resume(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	Stop(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	Boot(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	SetAutoStart(ctx context.Context, teamID, ref string, on bool) (*sandbox.Sandbox, error)
	SetIdleTimeout(ctx context.Context, teamID, ref string, d time.Duration) (*sandbox.Sandbox, error)
	// SetTimeout sets the hard lifetime to d from now (0: none) and, unless
	// on is "", what happens when it runs out.
	SetTimeout(ctx context.Context, teamID, ref string, d time.Duration, on string) (*sandbox.Sandbox, error)
	SetLabels(ctx context.Context, teamID, ref string, set map[string]string, remove []string) (*sandbox.Sandbox, error)
	// PausedTTLAt is when a paused sandbox is destroyed; zero: never.
	PausedTTLAt(sb *sandbox.Sandbox) time.Time
	Events(ctx context.Context, teamID, ref string) ([]sandbox.Event, error)
	TakeSnapshot(ctx context.Context, teamID, ref, name string, pin bool) (*sandbox.Snapshot, error)
	Snapshots(ctx context.Context, teamID, ref string) ([]*sandbox.Snapshot, error)
	DeleteSnapshot(ctx context.Context, teamID, ref, snap string) error
	Rollback(ctx context.Context, teamID, ref, snap string) (*sandbox.Sandbox, error)
	Fork(ctx context.Context, teamID, ref, snap, name string) (*sandbox.Sandbox, error)
	Expose(ctx context.Context, teamID, ref string, port int, open bool) (*sandbox.Sandbox, error)
	SetPublic(ctx context.Context, teamID, ref string, public bool) (*sandbox.Sandbox, error)
	SetEgress(ctx context.Context, teamID, ref string, p egress.Policy) (*sandbox.Sandbox, error)
	// VNCReady reports whether a desktop sandbox's desktop is up.
	VNCReady(id string) bool
	// LastLimit is the last limit a running sandbox hit, or "".
	LastLimit(id string) string
	// EventsSince returns recorded events after seq of one sandbox, or of
	// the team with ref "", and a channel closed at the next change.
	EventsSince(ctx context.Context, teamID, ref string, seq int64) ([]sandbox.Event, <-chan struct{}, error)
	LastEventSeq(ctx context.Context) (int64, error)
	Usage(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, sandbox.Usage, error)
	// TeamUsage samples every running sandbox of the team, by sandbox ID.
	TeamUsage(ctx context.Context, teamID string) (map[string]sandbox.Usage, error)
}

// SSHKeys stores the teams' SSH public keys.
type SSHKeys interface {
	CreateSSHKey(ctx context.Context, k store.SSHKey) error
	SSHKeys(ctx context.Context, teamID string) ([]store.SSHKey, error)
	DeleteSSHKey(ctx context.Context, teamID, ref string) error
}

// URLs makes the dev-server URLs of sandbox ports.
type URLs interface {
	URL(sandboxID string, port int) string
	SignedURL(sandboxID string, port int, ttl time.Duration) string
}

// Keys stores teams and API keys.
type Keys interface {
	KeysByLookup(ctx context.Context, lookup string) ([]auth.Key, error)
	CreateTeam(ctx context.Context, t auth.Team) error
	Teams(ctx context.Context) ([]auth.Team, error)
	TeamByName(ctx context.Context, ref string) (auth.Team, error)
	CreateKey(ctx context.Context, k auth.Key) error
	Keys(ctx context.Context, teamID string) ([]auth.Key, error)
	DeleteKey(ctx context.Context, teamID, ref string) error
}

// Templates lists and builds templates.
type Templates interface {
	List(ctx context.Context) ([]template.Info, error)
	Get(ctx context.Context, name string) (template.Info, error)
	Build(ctx context.Context, name string, progress func(template.Progress)) (template.Info, error)
}

// Server is the HTTP API.
type Server struct {
	log         *slog.Logger
	sandboxes   Sandboxes
	keys        Keys
	templates   Templates
	urls        URLs // nil when the dev-server proxy is off
	sshKeys     SSHKeys
	sshHost     string // host and port of the SSH gateway, "" when it is off
	sshPort     int
	sshHKey     string // its host key, authorized_keys format
	now         func() time.Time
	prom        http.Handler // the metrics; nil: GET /metrics answers 404
	pages       http.Handler // the dashboard; nil: none
	ownsPage    func(path string) bool
	custom      CustomTemplates // nil: none
	volumes     Volumes         // nil: none
	buildLimits BuildLimits
	tmpDir      string       // where build contexts wait
	mcp         http.Handler // /mcp, made by Handler
	quotas      Quotas       // nil: none kept
	cluster     Cluster      // nil: none
	mover       Mover        // nil: sandboxes do not move
	webhooks    Webhooks     // nil: none
	// webhookGuard: where webhooks may not be delivered.
	webhookGuard webhook.Guard
}

// SetDashboard serves the web dashboard's files, the paths owns accepts, to
// GET and HEAD without a key: they hold no data, and the page sends the key
// with each API call it makes.
func (s *Server) SetDashboard(h http.Handler, owns func(path string) bool) {
	s.pages, s.ownsPage = h, owns
}

// SetSSH tells the API about the SSH gateway: where it is reached (for the
// ssh command lines it shows), its host key (authorized_keys format) and
// where keys are kept.
func (s *Server) SetSSH(keys SSHKeys, host string, port int, hostKey string) {
	s.sshKeys, s.sshHost, s.sshPort, s.sshHKey = keys, host, port, hostKey
}

// New returns the API server. urls may be nil.
func New(log *slog.Logger, sandboxes Sandboxes, keys Keys, templates Templates, urls URLs) *Server {
	return &Server{log: log.With("component", "api"), sandboxes: sandboxes, keys: keys, templates: templates, urls: urls, now: time.Now}
}

// route is one API route: the OpenAPI test checks each is documented.
type route struct {
	pattern string
	handler func(http.ResponseWriter, *http.Request) error
}

func (s *Server) routes() []route {
	return append([]route{
		{"GET /v1/me", s.me},
		{"POST /v1/sandboxes", s.createSandbox},
		{"GET /v1/sandboxes", s.listSandboxes},
		{"GET /v1/sandboxes/{ref}", s.getSandbox},
		{"DELETE /v1/sandboxes/{ref}", s.destroySandbox},
		{"PATCH /v1/sandboxes/{ref}", s.updateSandbox},
		{"PUT /v1/sandboxes/{ref}/egress", s.setEgress},
		{"POST /v1/sandboxes/{ref}/pause", s.pauseSandbox},
		{"POST /v1/sandboxes/{ref}/resume", s.resumeSandbox},
		{"POST /v1/sandboxes/{ref}/stop", s.stopSandbox},
		{"POST /v1/sandboxes/{ref}/start", s.startSandbox},
		{"GET /v1/sandboxes/{ref}/events", s.sandboxEvents},
		{"GET /v1/sandboxes/{ref}/watch", s.watchSandbox},
		{"GET /v1/watch", s.watchTeam},
		{"GET /v1/sandboxes/{ref}/terminal", s.terminal},
		{"GET /v1/sandboxes/{ref}/vnc", s.vnc},
		{"POST /v1/sandboxes/{ref}/snapshots", s.takeSnapshot},
		{"GET /v1/sandboxes/{ref}/snapshots", s.listSnapshots},
		{"DELETE /v1/sandboxes/{ref}/snapshots/{snap}", s.deleteSnapshot},
		{"POST /v1/sandboxes/{ref}/rollback", s.rollback},
		{"POST /v1/sandboxes/{ref}/fork", s.fork},
		{"POST /v1/sandboxes/{ref}/move", s.moveSandbox},
		{"POST /v1/sandboxes/{ref}/ports", s.exposePort},
		{"DELETE /v1/sandboxes/{ref}/ports/{port}", s.unexposePort},
		{"POST /v1/sandboxes/{ref}/links", s.signedLink},
		{"GET /v1/sandboxes/{ref}/computer/screenshot", s.screenshot},
		{"GET /v1/sandboxes/{ref}/computer/screen", s.screenSize},
		{"GET /v1/sandboxes/{ref}/computer/cursor", s.cursor},
		{"GET /v1/sandboxes/{ref}/computer/windows", s.windows},
		{"POST /v1/sandboxes/{ref}/computer/actions", s.computerAction},
		{"GET /v1/ssh-keys", s.listSSHKeys},
		{"POST /v1/ssh-keys", s.addSSHKey},
		{"DELETE /v1/ssh-keys/{ref}", s.removeSSHKey},
		{"GET /v1/webhooks", s.listWebhooks},
		{"POST /v1/webhooks", s.createWebhook},
		{"DELETE /v1/webhooks/{id}", s.removeWebhook},
		{"GET /v1/webhooks/{id}/deliveries", s.webhookDeliveries},
		{"POST /v1/sandboxes/{ref}/exec", s.exec},
		{"GET /v1/sandboxes/{ref}/exec/attach", s.execAttach},
		{"POST /v1/sandboxes/{ref}/code", s.found(s.runCode)},
		{"POST /v1/sandboxes/{ref}/code/contexts", s.found(s.createCodeContext)},
		{"GET /v1/sandboxes/{ref}/code/contexts", s.found(s.listCodeContexts)},
		{"DELETE /v1/sandboxes/{ref}/code/contexts/{id}", s.found(s.deleteCodeContext)},
		{"POST /v1/sandboxes/{ref}/code/contexts/{id}/restart", s.found(s.restartCodeContext)},
		{"POST /v1/sandboxes/{ref}/processes", s.startProcess},
		{"GET /v1/sandboxes/{ref}/processes", s.listProcesses},
		{"GET /v1/sandboxes/{ref}/processes/{pid}/output", s.processOutput},
		{"POST /v1/sandboxes/{ref}/processes/{pid}/signal", s.signalProcess},
		{"POST /v1/sandboxes/{ref}/processes/{pid}/stdin", s.processStdin},
		{"GET /v1/sandboxes/{ref}/files", s.readFile},
		{"PUT /v1/sandboxes/{ref}/files", s.writeFile},
		{"DELETE /v1/sandboxes/{ref}/files", s.removeFile},
		{"GET /v1/sandboxes/{ref}/files/stat", s.statFile},
		{"GET /v1/sandboxes/{ref}/files/list", s.listFiles},
		{"POST /v1/sandboxes/{ref}/files/mkdir", s.mkdir},
		{"GET /v1/sandboxes/{ref}/files/archive", s.readArchive},
		{"PUT /v1/sandboxes/{ref}/files/archive", s.writeArchive},
		{"GET /v1/templates", s.listTemplates},
		{"GET /v1/templates/{name}", s.getTemplate},
		{"DELETE /v1/templates/{name}", s.removeTemplate},
		{"PATCH /v1/templates/{name}", s.updateTemplate},
		{"POST /v1/sandboxes/{ref}/save", s.saveSandbox},
		{"GET /v1/templates/{name}/history", s.templateHistory},
		{"POST /v1/templates/{name}/build", s.buildTemplate},
		{"GET /v1/teams", s.listTeams},
		{"POST /v1/teams", s.createTeam},
		{"GET /v1/teams/{name}", s.getTeam},
		{"PATCH /v1/teams/{name}", s.updateTeam},
		{"GET /v1/usage", s.teamsUsage},
		{"GET /v1/keys", s.listKeys},
		{"POST /v1/keys", s.createKey},
		{"DELETE /v1/keys/{ref}", s.deleteKey},
		{"GET /metrics", s.metrics},
		{"POST /mcp", s.serveMCP},
		{"GET /mcp", s.serveMCP},
		{"DELETE /mcp", s.serveMCP},
	}, append(s.volumeRoutes(), s.nodeRoutes()...)...)
}

// Handler returns the API's HTTP handler. Every route requires a key; only
// the dashboard's files, if set, do not.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		h := r.handler
		if sandboxRoute(r.pattern) {
			h = s.owned(r.pattern, h)
		}
		mux.Handle(r.pattern, s.handle(h))
	}
	mux.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errNoRoute(r)
	}))
	api := s.authenticated(mux)
	s.mcp = s.mcpHandler(api)
	if s.pages == nil {
		return s.logged(api)
	}
	return s.logged(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.ownsPage(r.URL.Path) {
			s.pages.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
}

// handle turns a handler's error into the error answer.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	})
}

// drain discards what is left of a request body so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20)) }
