package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestQuotas: a team's limits refuse, with the right status and a body
// that says which limit, its use and what to do; a refused create leaves
// no record, namespace or directory; six creates at once against a limit
// of two make two; resume counts as a start; an admin raising the limit
// with team update lets the next one through; usage and the metrics show
// the numbers.
func TestQuotas(t *testing.T) {
	s := startServer(t, "--max-vcpus", "64")
	ctx := ctxT(t, 5*time.Minute)
	c := quotaTeam(t, s)

	// Six at once against a limit of two.
	made, refused := createAtOnce(t, c, 6)
	if len(made) != 2 || len(refused) != 4 {
		t.Fatalf("%d made, %d refused (%v); want 2 and 4", len(made), len(refused), refused)
	}
	for _, err := range refused {
		checkQuotaError(t, err, http.StatusTooManyRequests, client.QuotaSandboxes, 2, 2)
	}
	all, err := c.List(ctx, client.IncludeDestroyed())
	if err != nil || len(all) != 2 {
		t.Errorf("records after the refusals: %d, %v; want the 2 made", len(all), err)
	}
	if n := len(netnsList(s)); n != 2 {
		t.Errorf("%d network namespaces, want 2", n)
	}
	if dirs, _ := os.ReadDir(filepath.Join(s.dataDir, "sandboxes")); len(dirs) != 2 {
		t.Errorf("%d sandbox directories, want 2", len(dirs))
	}

	// Memory: 4 GB together; a 4 GB sandbox after a pause frees a place.
	if _, err := c.Pause(ctx, made[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, client.CreateRequest{Template: "base", VCPUs: 1, MemoryMB: 4096})
	checkQuotaError(t, err, http.StatusTooManyRequests, client.QuotaMemoryMB, 256, 4096)
	third, err := c.Create(ctx, client.CreateRequest{Template: "base", VCPUs: 1, MemoryMB: 256})
	if err != nil {
		t.Fatalf("a create after a pause: %v", err)
	}
	t.Cleanup(func() { _ = c.Destroy(context.Background(), third.ID) })

	// Resume is a start: refused at the limit, and the sandbox stays paused.
	_, err = c.Resume(ctx, made[0].ID)
	checkQuotaError(t, err, http.StatusTooManyRequests, client.QuotaSandboxes, 2, 2)
	if sb, _ := c.Get(ctx, made[0].ID); sb == nil || sb.State != "paused" {
		t.Errorf("after a refused resume: %+v", sb)
	}

	// Disk: the paused image is over a 1 MB limit; a snapshot is refused.
	if _, _, code := s.cli(t, "", "team", "update", "quota-a", "--max-disk", "1M"); code != 0 {
		t.Fatal("team update --max-disk failed")
	}
	_, err = c.TakeSnapshot(ctx, third.ID, "s1")
	checkQuotaError(t, err, http.StatusForbidden, client.QuotaDiskBytes, -1, 1<<20)

	// Raised by an admin, the resume goes through.
	if _, err := s.client().UpdateTeam(ctx, "quota-a", client.UpdateTeamRequest{MaxSandboxes: ptr(int64(3)), MaxDiskBytes: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resume(ctx, made[0].ID); err != nil {
		t.Fatalf("resume after the limit was raised: %v", err)
	}
	checkUsage(t, s, c)
}

// quotaTeam makes team quota-a, limits it to 2 sandboxes and 4 GB with
// runtools team update, and returns a client with its key.
func quotaTeam(t *testing.T, s *server) *client.Client {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	admin := s.client()
	if _, err := admin.CreateTeam(ctx, "quota-a"); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, client.CreateKeyRequest{Name: "a", Team: "quota-a"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.clientWithKey(key.Secret)
	out, stderr, code := s.cli(t, "", "team", "update", "quota-a", "--max-sandboxes", "2", "--max-memory", "4G", "-o", "json")
	var team client.Team
	if code != 0 || json.Unmarshal([]byte(out), &team) != nil || team.Limits == nil ||
		*team.Limits != (client.TeamLimits{MaxSandboxes: 2, MaxVCPUs: 64, MaxMemoryMB: 4096}) {
		t.Fatalf("team update: %d %s %s", code, out, stderr)
	}
	if _, err := c.UpdateTeam(ctx, "quota-a", client.UpdateTeamRequest{MaxSandboxes: new(int64)}); !errors.Is(err, client.ErrPermissionDenied) {
		t.Errorf("a team key changing its own limits: %v", err)
	}
	return c
}

// createAtOnce makes n small sandboxes at once, destroyed at the end.
func createAtOnce(t *testing.T, c *client.Client, n int) (made []*client.Sandbox, refused []error) {
	ctx := ctxT(t, 3*time.Minute)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			sb, err := c.Create(ctx, client.CreateRequest{Template: "base", VCPUs: 1, MemoryMB: 256})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused = append(refused, err)
				return
			}
			made = append(made, sb)
			t.Cleanup(func() { _ = c.Destroy(context.Background(), sb.ID) })
		})
	}
	wg.Wait()
	return made, refused
}

// checkUsage checks that usage, runtools usage and the metrics count the
// three running sandboxes of quota-a.
func checkUsage(t *testing.T, s *server, c *client.Client) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	usage, err := c.Usage(ctx, "")
	if err != nil || len(usage) != 1 || usage[0].Team != "quota-a" {
		t.Fatalf("usage: %+v, %v", usage, err)
	}
	got := map[string]client.Quota{}
	for _, q := range usage[0].Quotas {
		got[q.Name] = q
	}
	if q := got[client.QuotaSandboxes]; q.Used != 3 || q.Limit != 3 {
		t.Errorf("sandboxes in usage: %+v", q)
	}
	if q := got[client.QuotaMemoryMB]; q.Used != 768 || q.Limit != 4096 {
		t.Errorf("memory in usage: %+v", q)
	}
	if q := got[client.QuotaVCPUs]; q.Used != 3 || q.Limit != 64 {
		t.Errorf("vCPUs in usage: %+v", q)
	}
	if _, err := c.Usage(ctx, "default"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another team's usage with a team key: %v", err)
	}
	if out, _, code := s.cli(t, "", "usage", "--team", "quota-a"); code != 0 || !strings.Contains(out, "quota-a   sandboxes   3") {
		t.Errorf("runtools usage:\n%s", out)
	}
	_, body := s.scrape(t, s.key)
	m := parseMetrics(body)
	if v := m[`runtools_team_quota_used{quota="sandboxes",team="quota-a"}`]; v != 3 {
		t.Errorf("runtools_team_quota_used of sandboxes: %v", v)
	}
	if v := m[`runtools_team_quota_limit{quota="memory_mb",team="quota-a"}`]; v != 4096 {
		t.Errorf("runtools_team_quota_limit of memory: %v", v)
	}
}

// TestQuotaBuilds: a second build at once over a team's limit of one is
// refused with 429, and the first goes on to the end.
func TestQuotaBuilds(t *testing.T) {
	s := startServer(t, "--max-builds", "1")
	ctx := ctxT(t, 10*time.Minute)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nRUN sleep 6\n"})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		tarball, dockerfile, err := client.ContextTar(dir, "")
		if err != nil {
			done <- err
			return
		}
		defer tarball.Close()
		var once sync.Once
		_, err = s.client().BuildCustomTemplate(ctx, "slow", client.BuildOptions{Context: tarball, Dockerfile: dockerfile},
			func(client.TemplateProgress) { once.Do(func() { close(started) }) })
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("the first build: %v", err)
	}
	_, _, err := buildTemplate(t, s, "second", dir, client.BuildOptions{})
	var api *client.APIError
	if !errors.As(err, &api) || api.Status != http.StatusTooManyRequests || api.Quota == nil || api.Quota.Name != client.QuotaBuilds ||
		api.Quota.Used != 1 || api.Quota.Limit != 1 || !strings.Contains(api.Message, "--max-builds") {
		t.Errorf("a second build at once: %#v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("the first build: %v", err)
	}
}

// checkQuotaError checks that err is a quota's refusal with status, on
// the limit name, with used (unless -1) and limit, and what to do.
func checkQuotaError(t *testing.T, err error, status int, name string, used, limit int64) {
	t.Helper()
	var api *client.APIError
	if !errors.As(err, &api) || !errors.Is(err, client.ErrResourceExhausted) || api.Status != status || api.Quota == nil {
		t.Errorf("want a %d quota error, got %#v", status, err)
		return
	}
	q := api.Quota
	if q.Name != name || (used >= 0 && q.Used != used) || q.Limit != limit ||
		!strings.Contains(q.Hint, "runtools team update quota-a") || !strings.Contains(api.Message, q.Hint) {
		t.Errorf("quota in the error: %+v (%s)", q, api.Message)
	}
}

func ptr[T any](v T) *T { return &v }
