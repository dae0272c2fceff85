package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/runtools/runtools/client"
)

// call does a request and decodes a JSON answer into out (if not nil).
func (f *fixture) call(t *testing.T, method, path, key, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestWebhookRoutes: a webhook's secret is shown at creation only; bad
// URLs and events get a 400 that says what is valid; another team's
// webhook is not found.
func TestWebhookRoutes(t *testing.T) {
	f := newFixture(t)
	var h client.Webhook
	if code := f.call(t, "POST", "/v1/webhooks", f.keyA, `{"url":"http://127.0.0.1:9000/hook","events":["created","limit"]}`, &h); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if !strings.HasPrefix(h.Secret, "whsec_") || len(h.Secret) < 38 || strings.Join(h.Events, ",") != "created,limit" {
		t.Errorf("created: %+v", h)
	}
	var list struct{ Webhooks []client.Webhook }
	if code := f.call(t, "GET", "/v1/webhooks", f.keyA, "", &list); code != 200 || len(list.Webhooks) != 1 || list.Webhooks[0].Secret != "" {
		t.Errorf("list: %d %+v", code, list)
	}
	if code := f.call(t, "GET", "/v1/webhooks", f.keyB, "", &list); code != 200 || len(list.Webhooks) != 0 {
		t.Errorf("team b sees %+v", list)
	}
	for _, path := range []string{"/v1/webhooks/" + h.ID + "/deliveries"} {
		if code := f.call(t, "GET", path, f.keyB, "", nil); code != 404 {
			t.Errorf("team b GET %s: %d", path, code)
		}
	}
	if code := f.call(t, "DELETE", "/v1/webhooks/"+h.ID, f.keyB, "", nil); code != 404 {
		t.Errorf("team b removes it: %d", code)
	}
	var dl struct{ Deliveries []client.WebhookDelivery }
	if code := f.call(t, "GET", "/v1/webhooks/"+h.ID+"/deliveries?limit=10", f.keyA, "", &dl); code != 200 || dl.Deliveries == nil {
		t.Errorf("deliveries: %d %+v", code, dl)
	}
	for body, want := range map[string]string{
		`{"url":"ftp://x/"}`:                                   "http:// or https://",
		`{"url":"http://169.254.169.254/"}`:                    "link-local",
		`{"url":"https://example.com/","events":["exploded"]}`: "created, paused, resumed, destroyed, error, timeout, limit",
		`{"url":"https://example.com/","secret":"mine"}`:       "secret",
		`{"events":["created"]}`:                               "http:// or https://",
	} {
		var e client.ErrorBody
		if code := f.call(t, "POST", "/v1/webhooks", f.keyA, body, &e); code != 400 || !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s: %d %q, want 400 saying %q", body, code, e.Error.Message, want)
		}
	}
	if code := f.call(t, "GET", "/v1/webhooks/"+h.ID+"/deliveries?limit=0", f.keyA, "", nil); code != 400 {
		t.Errorf("limit 0: %d", code)
	}
	if code := f.call(t, "DELETE", "/v1/webhooks/"+h.ID, f.keyA, "", nil); code != 204 {
		t.Errorf("remove: %d", code)
	}
	if code := f.call(t, "GET", "/v1/webhooks/"+h.ID+"/deliveries", f.keyA, "", nil); code != 404 {
		t.Errorf("removed webhook's log: %d", code)
	}
}
