package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Config is everything `runtools server` can be told.
type Config struct {
	DataDir      string // database, sandboxes, runsc state; default /var/lib/runtools
	Cluster      string // PostgreSQL URL: records live there, not in DataDir's SQLite file
	ObjectStore  string // s3://BUCKET?endpoint=...: paused sandboxes' images go there too, to resume on any node
	Listen       string // API address, default 127.0.0.1:7070
	Proxy        ProxyConfig
	SSH          SSHConfig
	TemplateDir  string // template cache, default /var/cache/runtools/templates
	Runsc        string // runsc binary; default /usr/local/lib/runtools/runsc, else runsc on PATH
	Platform     string // gVisor platform: auto, systrap, kvm, ptrace
	Bridge       string // host bridge, default rt0
	Subnet       netip.Prefix
	BuildOnStart bool // build missing templates in the background at start
	Build        BuildConfig
	Debug        bool          // debug logs, and runsc debug logs per sandbox
	APIKey       string        // admin key to use if the database has none (from RUNTOOLS_API_KEY)
	PausedTTL    time.Duration // a sandbox paused this long is destroyed; 0: kept for ever
	MaxSnapshots int           // snapshots each sandbox keeps (the oldest unpinned go first); 0: all
	Node         NodeConfig
	Webhooks     WebhookConfig
}

// WebhookConfig sets up the delivery of webhooks.
type WebhookConfig struct {
	AllowPrivate bool          // loopback and private receivers are reached
	FirstRetry   time.Duration // wait after a first failure, doubling; 0: 10s
	Timeout      time.Duration // a receiver's time to answer; 0: 10s
}

// NodeConfig is this server as a node of a cluster.
type NodeConfig struct {
	Name      string        // unique in the cluster and stable across restarts; default the host name
	Advertise string        // host or IP the other nodes reach this one at; default the --listen host
	Slots     int           // sandboxes it runs at most; default 1000
	Lease     time.Duration // taken for lost this long after its last heartbeat; default 15s
}

// BuildConfig limits the sandboxes that run custom template builds' steps.
type BuildConfig struct {
	VCPUs        int           // each step's sandbox; 0: the sandbox default
	MemoryMB     int           // each step's sandbox; 0: the sandbox default
	StepTimeout  time.Duration // one RUN at most; 0: 30 minutes
	MaxContextMB int           // a build context, uncompressed; 0: 2048
	MaxImageMB   int           // an image's compressed layers; 0: 8192
	DiskMB       int           // what one step writes; 0: 10240
	CacheTTL     time.Duration // a cached layer no template uses stays this long after its last use; 0: a week
}

// ProxyConfig sets up the dev-server URLs ({port}-{id}.{domain}).
type ProxyConfig struct {
	Listen            string // "" turns the proxy off; default :8080 from the flag
	Domain            string // default sandboxes.localhost
	CertFile, KeyFile string // TLS with a certificate for *.Domain
	ACME              bool   // automatic certificates
	ACMEEmail         string
}

// SSHConfig sets up the SSH gateway (ssh SANDBOX-ID@HOST -p PORT).
type SSHConfig struct {
	Listen string // "" turns the gateway off; default :2222 from the flag
	Host   string // host name users are shown; default the listen host, else localhost
}

// DefaultRunsc is where `make setup` installs the pinned runsc build.
const DefaultRunsc = "/usr/local/lib/runtools/runsc"

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/runtools"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7070"
	}
	if c.Node.Name == "" {
		c.Node.Name, _ = os.Hostname()
	}
	if c.Node.Slots == 0 {
		c.Node.Slots = 1000
	}
	if c.TemplateDir == "" {
		c.TemplateDir = "/var/cache/runtools/templates"
	}
	if c.Runsc == "" {
		c.Runsc = DefaultRunsc
		if _, err := os.Stat(c.Runsc); err != nil {
			c.Runsc = "runsc"
		}
	}
}

func (c *Config) path(parts ...string) string {
	return filepath.Join(append([]string{c.DataDir}, parts...)...)
}
