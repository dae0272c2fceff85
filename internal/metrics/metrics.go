// Package metrics keeps the server's Prometheus metrics in a registry of
// its own: sandboxes by state and each team's use of its quotas (counted
// at every scrape), the latency and
// errors of sandbox operations, the dev-server proxy's and the SSH
// gateway's traffic, and the Go runtime's and the process's own. The
// daemon hands its observers to the sandbox manager, the proxy and the
// gateway, and the API serves Handler to admin keys at GET /metrics.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/runtools/runtools/internal/errdefs"
)

// StateCounter counts the sandboxes in each state.
type StateCounter interface {
	CountByState(ctx context.Context) (map[string]int, error)
}

// Config is what the daemon tells the metrics.
type Config struct {
	// Sandboxes is asked at every scrape; nil leaves runtools_sandboxes out.
	Sandboxes StateCounter
	// States are reported even when no sandbox is in them (as 0).
	States []string
	// Ops are the operations reported at 0 before the first of them.
	Ops []string
	// Quotas is asked at every scrape; nil leaves runtools_team_quota_* out.
	Quotas QuotaSource
}

// Buckets of runtools_operation_duration_seconds, from 5 ms to 10 s:
// finer around 50-250 ms, where pauses, resumes and execs usually fall.
var Buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10}

// scrapeTimeout bounds the count of sandboxes at one scrape.
const scrapeTimeout = 5 * time.Second

// Metrics is the server's metrics.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	opDuration *prometheus.HistogramVec
	opErrors   *prometheus.CounterVec

	proxyRequests           *prometheus.CounterVec
	proxyTo, proxyFrom      prometheus.Counter
	sshAccepted, sshRefused prometheus.Counter
	sshOpen                 prometheus.Gauge
	sshTo, sshFrom          prometheus.Counter
}

// New makes the metrics and registers them with a new registry.
func New(cfg Config, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "runtools_operation_duration_seconds",
		Help: "How long sandbox operations that succeeded took. exec: until the command started; " +
			"resume: on request or woken by use; pause: on request or when idle.",
		Buckets: Buckets,
	}, []string{"op"})
	m.opErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "runtools_operation_errors_total",
		Help: "Sandbox operations that failed, by kind of error (the API's error codes, and canceled when the caller went away).",
	}, []string{"op", "kind"})
	m.proxyRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "runtools_proxy_requests_total",
		Help: "Requests the dev-server proxy answered, by class of status (499: the client went away first).",
	}, []string{"code_class"})
	proxyBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "runtools_proxy_bytes_total",
		Help: "Bytes of bodies and websocket streams the dev-server proxy carried, to or from sandboxes.",
	}, []string{"direction"})
	sshConns := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "runtools_ssh_connections_total",
		Help: "SSH connections: accepted once logged in with the sandbox open; refused otherwise " +
			"(failed handshake or login, too many at once, or a sandbox that could not be opened).",
	}, []string{"result"})
	m.sshOpen = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "runtools_ssh_sessions_open",
		Help: "SSH connections logged in to a sandbox and still open.",
	})
	sshBytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "runtools_ssh_bytes_total",
		Help: "Bytes the SSH gateway carried on its channels (sessions, SFTP, forwards), to or from sandboxes.",
	}, []string{"direction"})

	for _, op := range cfg.Ops {
		m.opDuration.WithLabelValues(op)
	}
	for c := 1; c <= 5; c++ {
		m.proxyRequests.WithLabelValues(strconv.Itoa(c) + "xx")
	}
	m.proxyTo, m.proxyFrom = proxyBytes.WithLabelValues("to_sandbox"), proxyBytes.WithLabelValues("from_sandbox")
	m.sshAccepted, m.sshRefused = sshConns.WithLabelValues("accepted"), sshConns.WithLabelValues("refused")
	m.sshTo, m.sshFrom = sshBytes.WithLabelValues("to_sandbox"), sshBytes.WithLabelValues("from_sandbox")

	m.reg.MustRegister(m.opDuration, m.opErrors, m.proxyRequests, proxyBytes, sshConns, m.sshOpen, sshBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Sandboxes != nil {
		m.reg.MustRegister(&stateCollector{src: cfg.Sandboxes, known: cfg.States, desc: prometheus.NewDesc(
			"runtools_sandboxes", "Sandboxes by state; stopped counts every sandbox ever destroyed whose record is kept.",
			[]string{"state"}, nil)})
	}
	if cfg.Quotas != nil {
		m.reg.MustRegister(newQuotaCollector(cfg.Quotas))
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.With("component", "metrics").Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Handler serves the metrics in the Prometheus text (or negotiated) format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry is where the metrics are registered, for tests and for more
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe records a sandbox operation: its duration if it succeeded, its
// kind of error if not. It is the sandbox manager's Observer.
func (m *Metrics) Observe(op string, d time.Duration, err error) {
	if err != nil {
		m.opErrors.WithLabelValues(op, Kind(err)).Inc()
		return
	}
	m.opDuration.WithLabelValues(op).Observe(d.Seconds())
}

// Kind is the label of an error: its errdefs code, or canceled when the
// caller went away. A deadline is unavailable, as the API says.
func Kind(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return errdefs.Code(err)
}

// Proxy returns the dev-server proxy's observer.
func (m *Metrics) Proxy() ProxyObserver { return ProxyObserver{m} }

// ProxyObserver counts the dev-server proxy's requests and traffic.
type ProxyObserver struct{ m *Metrics }

// Request counts an answered request by its class of status.
func (o ProxyObserver) Request(status int) {
	o.m.proxyRequests.WithLabelValues(codeClass(status)).Inc()
}

// ToSandbox counts bytes sent to a sandbox.
func (o ProxyObserver) ToSandbox(n int64) { o.m.proxyTo.Add(float64(n)) }

// FromSandbox counts bytes received from a sandbox.
func (o ProxyObserver) FromSandbox(n int64) { o.m.proxyFrom.Add(float64(n)) }

func codeClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// SSH returns the SSH gateway's observer.
func (m *Metrics) SSH() SSHObserver { return SSHObserver{m} }

// SSHObserver counts the SSH gateway's connections and traffic.
type SSHObserver struct{ m *Metrics }

// Accepted counts a connection that reached its sandbox; it is open until Closed.
func (o SSHObserver) Accepted() { o.m.sshAccepted.Inc(); o.m.sshOpen.Inc() }

// Closed counts the end of an accepted connection.
func (o SSHObserver) Closed() { o.m.sshOpen.Dec() }

// Refused counts a connection that never reached a sandbox.
func (o SSHObserver) Refused() { o.m.sshRefused.Inc() }

// ToSandbox counts bytes from a client to a sandbox.
func (o SSHObserver) ToSandbox(n int64) { o.m.sshTo.Add(float64(n)) }

// FromSandbox counts bytes from a sandbox to a client.
func (o SSHObserver) FromSandbox(n int64) { o.m.sshFrom.Add(float64(n)) }

// stateCollector reports runtools_sandboxes from a count made at scrape
// time, so it is never out of step with the records.
type stateCollector struct {
	src   StateCounter
	known []string
	desc  *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect counts the sandboxes. The Collector interface passes no
// context, so the count gets one of its own, bounded by scrapeTimeout.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.src.CountByState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range c.known {
		if _, ok := counts[s]; !ok {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 0, s)
		}
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
	}
}
