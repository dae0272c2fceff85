package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// checkAccepted checks what an accepted body passed on to the manager.
func checkAccepted(t *testing.T, srv *fuzzServer, path string, body []byte) {
	t.Helper()
	calls := srv.sbs.calls
	switch {
	case path == "/v1/sandboxes":
		var req client.CreateRequest
		strict(t, body, &req)
		o := calls.create
		if o == nil || o.Name != req.Name || o.Template != req.Template || o.VCPUs != req.VCPUs ||
			o.MemoryMB != req.MemoryMB || !slices.Equal(o.Ports, req.Ports) || o.Password != req.Password {
			t.Fatalf("create %q reached the manager as %+v", body, o)
		}
		if (req.IdleTimeout == nil) != (o.IdleTimeout == nil) ||
			req.IdleTimeout != nil && !exactSeconds(*o.IdleTimeout, *req.IdleTimeout) {
			t.Fatalf("create %q: idle_timeout reached the manager as %v", body, o.IdleTimeout)
		}
	case path == "/v1/sandboxes/mine":
		var req client.UpdateRequest
		strict(t, body, &req)
		if req.IdleTimeout != nil && (calls.idle == nil || !exactSeconds(*calls.idle, *req.IdleTimeout)) {
			t.Fatalf("update %q: idle_timeout reached the manager as %v", body, calls.idle)
		}
	case strings.HasSuffix(path, "/exec"), strings.HasSuffix(path, "/processes"):
		var req client.ExecRequest
		strict(t, body, &req)
		if len(calls.execs) != 1 {
			t.Fatalf("%s %q: %d commands reached the manager", path, body, len(calls.execs))
		}
		got := calls.execs[0]
		if len(got.Cmd) == 0 || got.Cmd[0] == "" || !slices.Equal(got.Cmd, req.Cmd) ||
			got.TimeoutMS < 0 || got.TimeoutMS > maxTimeoutMS || got.TimeoutMS != req.TimeoutMS ||
			got.Cwd != req.Cwd || got.Cwd != "" && !strings.HasPrefix(got.Cwd, "/") ||
			got.Background != strings.HasSuffix(path, "/processes") {
			t.Fatalf("%s %q reached the manager as %+v", path, body, got)
		}
	case strings.HasSuffix(path, "/ports"):
		var req client.PortRequest
		strict(t, body, &req)
		if calls.port == nil || *calls.port != req.Port {
			t.Fatalf("expose %q reached the manager as port %v", body, calls.port)
		}
	case strings.HasSuffix(path, "/links"):
		var req client.LinkRequest
		strict(t, body, &req)
		ttl := srv.urls.ttl
		if ttl <= 0 || ttl > maxLinkTTL || req.TTL == 0 && ttl != time.Hour || req.TTL != 0 && !exactSeconds(ttl, req.TTL) {
			t.Fatalf("link %q signed for %v", body, ttl)
		}
	case path == "/v1/teams":
		var req struct {
			Name string `json:"name"`
		}
		strict(t, body, &req)
		if !refTeamName(req.Name) {
			t.Fatalf("team %q created", req.Name)
		}
	case path == "/v1/keys":
		var req client.CreateKeyRequest
		strict(t, body, &req)
		if !refKeyName(req.Name) {
			t.Fatalf("key %q created", req.Name)
		}
	case path == "/v1/ssh-keys":
		var req client.AddSSHKeyRequest
		strict(t, body, &req)
		if !refKeyName(req.Name) {
			t.Fatalf("SSH key %q added", req.Name)
		}
	}
}

// checkComputerCommands checks the arguments of the xdotool commands a
// computer action ran: a point on the screen, 1 to 100 repeats.
func checkComputerCommands(t *testing.T, execs []agentapi.ExecRequest) {
	t.Helper()
	for _, e := range execs {
		if len(e.Cmd) == 0 || e.Cmd[0] != "xdotool" {
			continue
		}
		for i := 1; i < len(e.Cmd)-1; i++ {
			switch e.Cmd[i] {
			case "--repeat":
				if n, err := strconv.Atoi(e.Cmd[i+1]); err != nil || n < 1 || n > 100 {
					t.Fatalf("computer ran %q", e.Cmd)
				}
			case "mousemove":
				if i+3 >= len(e.Cmd) {
					t.Fatalf("computer ran %q", e.Cmd)
				}
				x, err1 := strconv.Atoi(e.Cmd[i+2])
				y, err2 := strconv.Atoi(e.Cmd[i+3])
				if err1 != nil || err2 != nil || x < 0 || y < 0 || x > 16384 || y > 16384 {
					t.Fatalf("computer ran %q", e.Cmd)
				}
			}
			if e.Cmd[i] == "--" {
				break // what follows is text or key names
			}
		}
	}
}

func lowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func alnum(c byte) bool { return lowerAlnum(c) || c >= 'A' && c <= 'Z' }

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// refSandboxID: "sandbox-" and 8 to 32 lowercase letters and digits.
func refSandboxID(s string) bool {
	rest, ok := strings.CutPrefix(s, "sandbox-")
	return ok && len(rest) >= 8 && len(rest) <= 32 && all(rest, lowerAlnum)
}

// refSandboxName: 1-63 lowercase letters, digits and dashes, starting and
// ending with a letter or digit, and not the shape of an ID.
func refSandboxName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && lowerAlnum(s[0]) && lowerAlnum(s[len(s)-1]) &&
		all(s, func(c byte) bool { return lowerAlnum(c) || c == '-' }) && !refSandboxID(s)
}

// refTeamName: 1-63 lowercase letters, digits and dashes, starting with a
// letter or digit.
func refTeamName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && lowerAlnum(s[0]) &&
		all(s, func(c byte) bool { return lowerAlnum(c) || c == '-' })
}

// refKeyName: 1-63 letters, digits, dots, dashes and underscores, starting
// with a letter or digit. Snapshot names follow the same rule.
func refKeyName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && alnum(s[0]) &&
		all(s, func(c byte) bool { return alnum(c) || c == '.' || c == '_' || c == '-' })
}

// FuzzNames checks the validators of sandbox IDs and names, snapshot,
// team and key names against the documented rules: they must not panic,
// must accept exactly what the rule allows (an ID is never a name), must
// reject with errdefs.ErrInvalidArgument, and whatever they accept must
// reach the manager and the store unchanged through a URL path or a JSON
// body.
func FuzzNames(f *testing.F) {
	for _, seed := range []string{
		"my-env", "sandbox-abc123xyz890", "sandbox-abcdefg", "web-", "-web", "Web", "a",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "", "..", ".", "%2e%2e", "a/b",
		"my-env\x00", "my-env\n", "mÿ-env", "ｍｙ-env", "snap-abcdefabcdef", "key_1.v2", "team-ABCDEFabcdef",
	} {
		f.Add(seed)
	}
	srv := newFuzzServer(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		// Sandbox IDs and names.
		isID := sandbox.IsID(s)
		if isID != refSandboxID(s) {
			t.Fatalf("IsID(%q) = %v", s, isID)
		}
		nameErr := sandbox.ValidateName(s)
		if (nameErr == nil) != refSandboxName(s) {
			t.Fatalf("ValidateName(%q) = %v", s, nameErr)
		}
		if nameErr != nil && !errors.Is(nameErr, errdefs.ErrInvalidArgument) {
			t.Fatalf("ValidateName(%q) = %v, not an invalid argument", s, nameErr)
		}
		if nameErr == nil && isID {
			t.Fatalf("%q is accepted both as a name and as an ID", s)
		}
		if isID || nameErr == nil {
			rec := srv.do(t, "GET", "/v1/sandboxes/"+url.PathEscape(s), nil)
			if refs := srv.sbs.calls.refs; len(refs) != 1 || refs[0] != s {
				t.Fatalf("GET of sandbox %q reached the manager as %q (status %d)", s, refs, rec.Code)
			}
		}

		// Snapshot names: the manager checks them before looking up the
		// sandbox, so an unknown sandbox tells a valid name (not found)
		// from an invalid one.
		_, snapErr := srv.mgr.Snapshot(ctx, fuzzTeam, "sandbox-unknown0", s)
		switch {
		case s == "" || refKeyName(s):
			if !errors.Is(snapErr, errdefs.ErrNotFound) {
				t.Fatalf("snapshot name %q: %v, want it accepted (and the sandbox not found)", s, snapErr)
			}
			if s != "" {
				srv.do(t, "DELETE", "/v1/sandboxes/mine/snapshots/"+url.PathEscape(s), nil)
				if got := srv.sbs.calls.snap; got != s {
					t.Fatalf("DELETE of snapshot %q reached the manager as %q", s, got)
				}
			}
		case !errors.Is(snapErr, errdefs.ErrInvalidArgument):
			t.Fatalf("snapshot name %q: %v, want an invalid argument", s, snapErr)
		}

		// Team and key names, which the API checks itself.
		if teamNamePattern.MatchString(s) != refTeamName(s) {
			t.Fatalf("team name %q: pattern says %v", s, !refTeamName(s))
		}
		if keyNamePattern.MatchString(s) != refKeyName(s) {
			t.Fatalf("key name %q: pattern says %v", s, !refKeyName(s))
		}
		if refTeamName(s) {
			body, _ := json.Marshal(client.CreateKeyRequest{Name: "k2", Team: s})
			srv.do(t, "POST", "/v1/keys", body)
			if s != "a" && s != fuzzTeam && !slices.Equal(srv.keys.refs, []string{s}) {
				t.Fatalf("key for team %q looked the team up as %q", s, srv.keys.refs)
			}
		}
		if refKeyName(s) {
			srv.do(t, "DELETE", "/v1/keys/"+url.PathEscape(s), nil)
			if !slices.Equal(srv.keys.refs, []string{s}) {
				t.Fatalf("DELETE of key %q reached the store as %q", s, srv.keys.refs)
			}
		}
	})
}
