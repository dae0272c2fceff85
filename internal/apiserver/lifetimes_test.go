package apiserver

import (
	"context"
	"net/http"
	"testing"

	"github.com/runtools/runtools/client"
)

// TestLabelsAndTimeoutsOnTheWire: list filters by ?label=K=V (all must
// match), update sets and removes labels and the timeout, and the wire
// sandbox shows them; malformed input is a 400.
func TestLabelsAndTimeoutsOnTheWire(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "POST", "/v1/sandboxes", f.keyA, `{"name":"web","labels":{"app":"web","tier":"front"},"timeout":60,"on_timeout":"pause"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	c, err := client.New(f.srv.URL, f.keyA)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list := func(opts ...client.ListOption) []*client.Sandbox {
		t.Helper()
		out, err := c.List(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(client.WithLabel("app", "web"), client.WithLabel("tier", "front")); len(got) != 1 || got[0].Name != "web" || got[0].Labels["tier"] != "front" {
		t.Errorf("both labels: %+v", got)
	}
	if got := list(client.WithLabel("app", "web"), client.WithLabel("tier", "back")); len(got) != 0 {
		t.Errorf("one label off: %d sandboxes", len(got))
	}
	if got := list(); len(got) != 2 {
		t.Errorf("no filter: %d sandboxes", len(got))
	}
	if resp := f.do(t, "GET", "/v1/sandboxes?label=app", f.keyA, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("label without =: %d", resp.StatusCode)
	}

	hour := 3600
	sb, err := c.Update(ctx, "web", client.UpdateRequest{Labels: map[string]string{"owner": "alice"}, RemoveLabels: []string{"tier"}, Timeout: &hour})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if sb.Labels["owner"] != "alice" || sb.Labels["tier"] != "" || sb.TimeoutAt == nil {
		t.Errorf("after update: labels %v timeout_at %v", sb.Labels, sb.TimeoutAt)
	}
	for _, body := range []string{`{"timeout":-1}`, `{"timeout":99999999999}`, `{"on_timeout":"pause"}`} {
		if resp := f.do(t, "PATCH", "/v1/sandboxes/web", f.keyA, body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("update %s: %d, want 400", body, resp.StatusCode)
		}
	}
	if resp := f.do(t, "POST", "/v1/sandboxes", f.keyA, `{"timeout":-5}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("create with a negative timeout: %d, want 400", resp.StatusCode)
	}
}
