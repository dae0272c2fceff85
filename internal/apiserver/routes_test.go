package apiserver

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestOpenAPICoversRoutes fails when a route is not described in api/openapi.yaml.
func TestOpenAPICoversRoutes(t *testing.T) {
	f, err := os.Open("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := map[string]bool{}
	var path string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case strings.HasPrefix(line, "components:"):
			path = ""
		case path != "" && methodLine.MatchString(line):
			m := strings.TrimSuffix(strings.TrimSpace(line), ":")
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	s := &Server{}
	for _, r := range s.routes() {
		if !documented[r.pattern] {
			t.Errorf("route %q is not in api/openapi.yaml", r.pattern)
		}
		delete(documented, r.pattern)
	}
	for k := range documented {
		t.Errorf("api/openapi.yaml documents %q, which is not a route", k)
	}
}

// TestComputerWaitsForTheDesktop: a computer call on a desktop that is
// still starting waits for it, and says so if it does not come up.
func TestComputerWaitsForTheDesktop(t *testing.T) {
	f := newFixture(t)
	sbs := f.sandboxes
	sbs.byID[f.sandboxA].Desktop = true
	sbs.setVNC(false)
	old := desktopWait
	desktopWait = 300 * time.Millisecond
	t.Cleanup(func() { desktopWait = old })
	if resp := f.do(t, "GET", "/v1/sandboxes/mine/computer/windows", f.keyA, ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("desktop down: status %d, want 503", resp.StatusCode)
	}
	go func() { time.Sleep(100 * time.Millisecond); sbs.setVNC(true) }()
	start := time.Now()
	resp := f.do(t, "GET", "/v1/sandboxes/mine/computer/windows", f.keyA, "")
	if resp.StatusCode == http.StatusServiceUnavailable || time.Since(start) < 100*time.Millisecond {
		t.Errorf("desktop coming up: status %d after %v, want the call to wait for it", resp.StatusCode, time.Since(start))
	}
}

// TestGetTemplate: one template with its installed versions; an unknown
// name is a 404.
func TestGetTemplate(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/templates/base", nil)
	req.Header.Set("Authorization", "Bearer "+f.keyB)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"packages":{"npm:node":"22.21.1"`) || !strings.Contains(string(body), `"tracked":["npm:node"]`) {
		t.Errorf("GET /v1/templates/base: %d %s", resp.StatusCode, body)
	}
	if resp := f.do(t, "GET", "/v1/templates/nope", f.keyB, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown template: %d, want 404", resp.StatusCode)
	}
}
