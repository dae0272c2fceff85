package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/runtools/runtools/internal/errdefs"
)

// setupTLS prepares the TLS configuration of a certificate from files or of
// ACME, or leaves p.tls nil for plain HTTP.
func (p *Proxy) setupTLS(cfg Config) error {
	hasFiles := cfg.CertFile != "" || cfg.KeyFile != ""
	switch {
	case hasFiles && (cfg.CertFile == "" || cfg.KeyFile == ""):
		return fmt.Errorf("proxy TLS needs both a certificate file and a key file: %w", errdefs.ErrInvalidArgument)
	case hasFiles && cfg.ACME:
		return fmt.Errorf("proxy TLS: a certificate file and ACME exclude each other: %w", errdefs.ErrInvalidArgument)
	case hasFiles:
		certs, err := loadCertFile(cfg.CertFile, cfg.KeyFile, p.log)
		if err != nil {
			return err
		}
		p.certs = certs
		p.tls = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: certs.get,
			NextProtos:     []string{"h2", "http/1.1"},
		}
	case cfg.ACME:
		if cfg.ACMECacheDir == "" {
			// Without a cache every restart asks for new certificates and
			// soon hits the CA's rate limits.
			return fmt.Errorf("proxy ACME needs a cache directory: %w", errdefs.ErrInvalidArgument)
		}
		p.acme = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(cfg.ACMECacheDir),
			HostPolicy: p.hostPolicy,
			Email:      cfg.ACMEEmail,
		}
		// The manager answers the TLS-ALPN-01 challenge itself (ALPN
		// acme-tls/1), which needs the proxy to be reachable on port 443.
		p.tls = p.acme.TLSConfig()
		p.tls.MinVersion = tls.VersionTLS12
		if p.publicPort != 0 && p.publicPort != 443 {
			p.log.Warn("ACME validates hosts on port 443; make sure it reaches the proxy", "public_port", p.publicPort)
		}
	}
	return nil
}

// hostPolicy lets ACME get a certificate only for hosts the proxy would
// serve: ParseHost accepts them and their port is not reserved. It does not
// ask the Resolver whether the sandbox exists, so anyone can make the proxy
// request certificates for made-up sandbox hosts, up to the CA's rate
// limits; public deployments with many sandboxes should use a wildcard
// certificate for *.Domain (CertFile/KeyFile), obtained by DNS-01 outside
// runtools.
func (p *Proxy) hostPolicy(_ context.Context, host string) error {
	_, port, err := ParseHost(host, p.domain)
	if err != nil {
		return err
	}
	if p.reserved[port] {
		return fmt.Errorf("host %q: port %d is reserved: %w", host, port, errdefs.ErrPermissionDenied)
	}
	return nil
}

// certFile is a certificate and key read from files, read again when the
// files change (say, renewed by certbot).
type certFile struct {
	certPath, keyPath string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // modification times and sizes of both files
	checked time.Time
}

// recheckEvery bounds how often a handshake looks at the files.
const recheckEvery = 10 * time.Second

func loadCertFile(certPath, keyPath string, log *slog.Logger) (*certFile, error) {
	c := &certFile{certPath: certPath, keyPath: keyPath, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certFile) load() error {
	stamp, err := c.fileStamp()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("loading the proxy certificate %s and key %s: %w: %w",
			c.certPath, c.keyPath, err, errdefs.ErrInvalidArgument)
	}
	c.cert, c.stamp, c.checked = &cert, stamp, time.Now()
	return nil
}

func (c *certFile) fileStamp() (string, error) {
	stamp := ""
	for _, path := range []string{c.certPath, c.keyPath} {
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("reading the proxy certificate: %w", err)
		}
		stamp += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return stamp, nil
}

func (c *certFile) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= recheckEvery {
		c.checked = time.Now()
		if stamp, err := c.fileStamp(); err == nil && stamp != c.stamp {
			if err := c.load(); err != nil {
				c.log.Warn("keeping the old proxy certificate", "err", err)
			} else {
				c.log.Info("reloaded the proxy certificate", "file", c.certPath)
			}
		}
	}
	return c.cert, nil
}
