package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long Serve waits, once ctx ends, for requests in
// flight to finish before it cuts the connections, websockets and streams.
const shutdownGrace = 5 * time.Second

// Serve answers on ln until ctx ends, then shuts down gracefully. It speaks
// HTTP/1.1 and cleartext HTTP/2 (h2c, prior knowledge), or TLS with h2 and
// http/1.1 when a certificate or ACME is configured. It returns nil after a
// shutdown caused by ctx, else the error that stopped the server.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	// Requests get a context that ends after the grace period rather than
	// with ctx, so a shutdown first lets them finish; ending it then closes
	// the websockets and streams that Shutdown does not wait for.
	reqCtx, cutAll := context.WithCancel(context.WithoutCancel(ctx))
	defer cutAll()

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if p.tls != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           p.handle,
		Protocols:         &protocols,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	if p.tls != nil {
		srv.TLSConfig = p.tls.Clone()
	}

	errc := make(chan error, 1)
	go func() {
		if p.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	p.log.InfoContext(ctx, "serving sandbox ports", "addr", ln.Addr().String(), "tls", p.tls != nil,
		"example", p.URL("sandbox-abc123xyz890", 5173))

	select {
	case err := <-errc:
		return fmt.Errorf("serving the sandbox proxy on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(graceCtx)
	cutAll()
	if err != nil {
		p.log.InfoContext(ctx, "cutting requests still running after the grace period", "err", err)
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the sandbox proxy on %s: %w", ln.Addr(), err)
	}
	return nil
}
