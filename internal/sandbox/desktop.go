package sandbox

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// DesktopPort is where a desktop sandbox serves its VNC client (noVNC).
// Its start hook opens the port only once the desktop is up.
const DesktopPort = 6901

// DesktopRFBPort is where a desktop sandbox's VNC server (x11vnc) speaks
// RFB, on the sandbox's loopback only: the API reaches it through the
// agent (the desktop template's start hook sets it).
const DesktopRFBPort = 5901

// DesktopPlatform is the gVisor platform of desktop sandboxes. Firefox
// (136 and later) sets the GS segment base for its wasm2c library
// sandboxes with arch_prctl(ARCH_SET_GS), which gVisor refuses
// (google/gvisor#11567). runtools' runsc build serves that call on the
// ptrace platform, where a task's GS base is its host thread's and the
// host kernel keeps it; systrap keeps data of its own there.
const DesktopPlatform = "ptrace"

// platformFor returns the gVisor platform a sandbox runs on: "" for the
// runtime's own.
func platformFor(sb *Sandbox) string {
	if sb.Desktop {
		return DesktopPlatform
	}
	return ""
}

// ReasonDesktopReady is the event recorded when a desktop comes up.
const ReasonDesktopReady = "desktop ready"

// How the manager learns a desktop is ready.
const (
	desktopProbeEvery = 100 * time.Millisecond
	desktopProbeFor   = 3 * time.Minute
)

// VNCReady reports whether a desktop sandbox's VNC client answers.
func (m *Manager) VNCReady(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[id]
	return e != nil && e.vnc
}

// probeDesktop polls a running desktop sandbox's VNC port until it answers
// or ctx (its watch) ends, and records it as ready. Sandboxes of other
// templates return at once.
func (m *Manager) probeDesktop(ctx context.Context, id string) {
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil || !sb.Desktop || !sb.IP.IsValid() {
		return
	}
	url := "http://" + net.JoinHostPort(sb.IP.String(), strconv.Itoa(DesktopPort)) + "/"
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := m.now()
	tick := time.NewTicker(desktopProbeEvery)
	defer tick.Stop()
	for m.now().Sub(start) < desktopProbeFor {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode < 500 {
				m.mu.Lock()
				e := m.entries[id]
				live := e != nil && e.unwatch != nil // still running, not unwatched meanwhile
				if live {
					e.vnc = true
				}
				m.mu.Unlock()
				if live {
					if err := m.store.AddEvent(ctx, id, Running, ReasonDesktopReady); err != nil {
						m.log.Warn("recording the desktop's start", "sandbox", id, "err", err)
					}
				}
				m.log.Info("desktop ready", "sandbox", id, "after", m.now().Sub(start).Round(time.Millisecond))
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	m.log.Warn("the desktop did not come up; see the start hook's output with `runtools sandbox ps` and `logs`",
		"sandbox", id, "waited", desktopProbeFor)
}
