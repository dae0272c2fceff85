package proxy

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// serve runs p.Serve on a loopback port until the test ends and returns
// the address and a func that stops it and returns Serve's error.
func serve(t *testing.T, p *Proxy) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, ln) }()
	stopped := false
	var serveErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case serveErr = <-errc:
			case <-time.After(20 * time.Second):
				t.Fatal("Serve did not return after its context ended")
			}
		}
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

func TestServeH2C(t *testing.T) {
	e := newEnv(t, echo)
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
	addr, stop := serve(t, e.p)

	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true) // prior knowledge, no HTTP/1
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	defer client.CloseIdleConnections()
	for _, proto := range []int{2, 1} {
		if proto == 1 {
			client = &http.Client{}
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/h2c", nil)
		req.Host = host(idA, 5173)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != proto {
			t.Fatalf("status %d over HTTP/%d, want 200 over HTTP/%d: %s", resp.StatusCode, resp.ProtoMajor, proto, body)
		}
		s := decodeSeen(t, string(body))
		if s.Host != "localhost:5173" || s.URI != "/h2c" || s.Header.Get("X-Forwarded-Host") != host(idA, 5173) {
			t.Errorf("HTTP/%d: upstream saw %+v", proto, s)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	e.res.waitDone(t, 2)
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := x509.NewCertPool()
	pool.AddCert(writeCert(t, certPath, keyPath, "first"))

	res := newFakeResolver(t)
	up := newDevServer(t, echo)
	res.set(idA, Route{Addr: up.addr(), Token: tokenA})
	p, err := New(Config{PublicPort: 8443, CertFile: certPath, KeyFile: keyPath, SigningKey: testKey}, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.URL(idA, 5173), "https://5173-"+idA+".sandboxes.localhost:8443/"; got != want {
		t.Errorf("URL %q, want %q", got, want)
	}
	addr, stop := serve(t, p)

	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	get := func(url string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for _, h := range header {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get(p.SignedURL(idA, 5173, time.Minute))
	if resp.StatusCode != http.StatusFound || resp.ProtoMajor != 2 {
		t.Fatalf("signed link: %d over HTTP/%d: %s", resp.StatusCode, resp.ProtoMajor, body)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].Secure {
		t.Fatalf("cookies %v, want one Secure cookie over TLS", cookies)
	}
	resp, body = get(p.URL(idA, 5173), "Cookie: "+cookieName+"="+cookies[0].Value)
	if resp.StatusCode != 200 {
		t.Fatalf("with cookie: %d %s", resp.StatusCode, body)
	}
	if s := decodeSeen(t, body); s.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto %q, want https", s.Header.Get("X-Forwarded-Proto"))
	}

	// A renewed certificate is picked up without a restart.
	pool.AddCert(writeCert(t, certPath, keyPath, "second"))
	p.certs.mu.Lock()
	p.certs.checked = time.Time{}
	p.certs.mu.Unlock()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "80-" + idA + ".sandboxes.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "second" {
		t.Errorf("served certificate %q after renewal, want second", cn)
	}
	if proto := conn.ConnectionState().NegotiatedProtocol; proto != "" {
		t.Logf("ALPN without offers: %q", proto)
	}
	conn.Close()

	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	res.waitDone(t, 2)
}

// writeCert writes a self-signed certificate for *.sandboxes.localhost.
func writeCert(t *testing.T, certPath, keyPath, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{"*.sandboxes.localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Different sizes or times mark the files as changed.
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Duration(len(name)) * time.Second)
	os.Chtimes(certPath, later, later)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestServeShutdown checks that when the context ends, a request in flight
// finishes, and a websocket still open after the grace period is cut (and
// its Done called) before Serve returns.
func TestServeShutdown(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "finished")
	})
	mux.HandleFunc("/ws", wsEcho)
	e := newEnv(t, mux)
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
	addr, stop := serve(t, e.p)

	ws, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	io.WriteString(ws, "GET /ws HTTP/1.1\r\nHost: "+host(idA, 5173)+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wsr := bufio.NewReader(ws)
	if resp, err := http.ReadResponse(wsr, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("websocket handshake: %v %v", resp, err)
	}

	slow := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/slow", nil)
		req.Host = host(idA, 5173)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is in flight

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if got := <-slow; got != "finished" {
		t.Errorf("request in flight at shutdown got %q", got)
	}
	start := time.Now()
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	t.Logf("Serve returned %v after the slow request", time.Since(start))
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wsr.ReadByte(); err == nil {
		t.Error("the websocket is still open after shutdown")
	}
	e.res.waitDone(t, 2)
}

func TestServeListenerError(t *testing.T) {
	e := newEnv(t, echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := e.p.Serve(context.Background(), ln); err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener: %v", err)
	}
}

func TestACMEConfig(t *testing.T) {
	p, err := New(Config{
		Domain: "run.example.com", PublicPort: 443, ACME: true, ACMEEmail: "ops@example.com",
		ACMECacheDir: t.TempDir(), ReservedPorts: []int{agentPort}, SigningKey: testKey,
	}, newFakeResolver(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"h2", "http/1.1", "acme-tls/1"} {
		if !slices.Contains(p.tls.NextProtos, proto) {
			t.Errorf("TLS NextProtos %v lack %s", p.tls.NextProtos, proto)
		}
	}
	if p.acme.Email != "ops@example.com" {
		t.Errorf("ACME email %q", p.acme.Email)
	}
	tests := []struct {
		host    string
		wantErr error
	}{
		{"5173-sandbox-abcdefgh.run.example.com", nil},
		{"5173-sandbox-abcdefgh.RUN.example.com", nil},
		{"run.example.com", errdefs.ErrNotFound},
		{"www.run.example.com", errdefs.ErrInvalidArgument},
		{"5173-sandbox-abcdefgh.example.com", errdefs.ErrInvalidArgument},
		{"49983-sandbox-abcdefgh.run.example.com", errdefs.ErrPermissionDenied},
	}
	for _, tt := range tests {
		err := p.acme.HostPolicy(context.Background(), tt.host)
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("HostPolicy(%q) = %v, want %v", tt.host, err, tt.wantErr)
		}
	}
}
