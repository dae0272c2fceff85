package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/sandbox"
)

// maxJSONBody bounds JSON request bodies (exec stdin included).
const maxJSONBody = 32 << 20

// decode reads a JSON body strictly: unknown fields are an error, so a
// typo in a field name is reported instead of silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return invalid("Content-Type must be application/json, got %q", ct)
	}
	return decodeJSON(http.MaxBytesReader(w, r.Body, maxJSONBody), v)
}

// decodeJSON reads one JSON object from r strictly, as decode does: null,
// an array or a number is refused as an empty body is.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return invalid("request body is empty; expected a JSON object")
		case errors.As(err, &mbe):
			return invalid("request body is larger than %d bytes", mbe.Limit)
		default:
			return invalid("request body is not valid: %v", err)
		}
	}
	// Only white space may follow: dec.More alone lets a stray ] or } through.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("request body has data after the JSON object")
	}
	if raw[0] != '{' {
		return invalid("request body must be a JSON object, got %.20s", raw)
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(v); err != nil {
		return invalid("request body is not valid: %v", err)
	}
	return nil
}

// writeList answers {key: [...]}, each item in its wire form (an empty
// list, never null, when there is none).
func writeList[T, W any](w http.ResponseWriter, key string, items []T, toWire func(T) W) error {
	out := make([]W, 0, len(items))
	for _, it := range items {
		out = append(out, toWire(it))
	}
	return writeJSON(w, http.StatusOK, map[string][]W{key: out})
}

// same is the wire form of what is already its own.
func same[T any](v T) T { return v }

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("writing answer: %w", err)
	}
	return nil
}

// wire converts a sandbox to its wire form, with its dev-server URLs.
func (s *Server) wire(sb *sandbox.Sandbox, team string) client.Sandbox {
	out := client.Sandbox{
		Public: sb.Public, Ports: append([]int{}, sb.Ports...), AccessToken: sb.AccessToken,
		ID: sb.ID, Name: sb.Name, Team: team, Template: sb.Template, State: string(sb.State),
		StopReason: sb.StopReason, VCPUs: sb.VCPUs, MemoryMB: sb.MemoryMB, DiskMB: sb.DiskMB,
		Disk: sb.Disk, AutoStart: sb.AutoStart, Node: sb.Node,
		Env: sb.Env, Metadata: sb.Metadata, CreatedAt: sb.CreatedAt,
		IdleTimeout: int(sb.IdleTimeout / time.Second),
		StartedAt:   timePtr(sb.StartedAt), StoppedAt: timePtr(sb.StoppedAt),
		Egress: client.Egress{Default: sb.Egress.Default, Allow: sb.Egress.Allow, Deny: sb.Egress.Deny},
		Labels: sb.Labels, Volumes: mountsWire(sb.Volumes), TimeoutAt: timePtr(sb.TimeoutAt), PausedTTLAt: timePtr(s.sandboxes.PausedTTLAt(sb)),
	}
	if !sb.TimeoutAt.IsZero() {
		out.OnTimeout = sb.OnTimeout
	}
	if out.Egress.Default == "" {
		out.Egress.Default = egress.Allow
	}
	if sb.IP.IsValid() {
		out.IP = sb.IP.String()
	}
	if sb.State == sandbox.Running {
		out.LimitHit = s.sandboxes.LastLimit(sb.ID)
	}
	if sb.Desktop {
		out.Desktop = true
		out.VNCReady = sb.State == sandbox.Running && s.sandboxes.VNCReady(sb.ID)
	}
	if s.sshHost != "" && sb.Live() {
		out.SSH = &client.SSHAccess{User: sb.ID, Host: s.sshHost, Port: s.sshPort, HostKey: s.sshHKey,
			Command: fmt.Sprintf("ssh %s@%s -p %d", sb.ID, s.sshHost, s.sshPort)}
	}
	if s.urls != nil && sb.Live() {
		for _, p := range sb.Ports {
			out.URLs = append(out.URLs, client.URL{Port: p, URL: s.urls.URL(sb.ID, p)})
		}
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
