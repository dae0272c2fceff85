package integration

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// writeTree writes files (relative name -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildTemplate builds a template from the Dockerfile in dir through the
// Go SDK, returning it and the progress lines.
func buildTemplate(t *testing.T, s *server, name, dir string, o client.BuildOptions) (*client.Template, []client.TemplateProgress, error) {
	t.Helper()
	tarball, dockerfile, err := client.ContextTar(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer tarball.Close()
	o.Context, o.Dockerfile = tarball, dockerfile
	var lines []client.TemplateProgress
	tpl, err := s.client().BuildCustomTemplate(ctxT(t, 15*time.Minute), name, o, func(p client.TemplateProgress) { lines = append(lines, p) })
	return tpl, lines, err
}

// appDockerfile installs a Debian package, an npm package and a local pip
// package, copies a context with a .dockerignore, sets ENV, WORKDIR and
// USER, removes a file of base (a whiteout), and serves on port 3000.
const appDockerfile = `FROM base
ARG GREETING=hello
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends cowsay >/dev/null && rm -rf /var/lib/apt/lists/*
RUN npm install -g is-number@7.0.0 >/dev/null 2>&1 && test -d /usr/local/lib/node_modules/is-number
COPY pypkg /tmp/pypkg
RUN pip install --break-system-packages --no-build-isolation --no-index /tmp/pypkg >/dev/null && python3 -c 'import rtprobe; print(rtprobe.X)'
RUN rm /usr/bin/less && useradd -m -u 1500 app
ENV APP_MODE=production GREETING=$GREETING
WORKDIR /srv/app
COPY --chown=app:app . .
USER app
EXPOSE 3000
CMD ["node", "server.js"]
`

var appContext = map[string]string{
	"server.js":                  `require("http").createServer((q, r) => r.end("mode=" + process.env.APP_MODE + " user=" + require("os").userInfo().username + " cwd=" + process.cwd())).listen(3000);`,
	".dockerignore":              "secrets.txt\nnode_modules\n",
	"secrets.txt":                "do not ship",
	"node_modules/junk/index.js": "junk",
	"pypkg/pyproject.toml":       "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n[project]\nname = \"rtprobe\"\nversion = \"1.0\"\n",
	"pypkg/rtprobe/__init__.py":  "X = 42\n",
	"notes/readme.md":            "# notes",
}

func TestCustomTemplateFromDockerfile(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	writeTree(t, dir, appContext)
	writeTree(t, dir, map[string]string{"Dockerfile": appDockerfile})

	start := time.Now()
	tpl, lines, err := buildTemplate(t, s, "my-app", dir, client.BuildOptions{BuildArgs: map[string]string{"GREETING": "howdy"}})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, progressText(lines))
	}
	t.Logf("cold build: %v", time.Since(start).Round(time.Millisecond))
	if tpl.Version != 1 || !tpl.Custom || len(tpl.Layers) == 0 || !strings.Contains(tpl.Dockerfile, "cowsay") || tpl.Config == nil || tpl.Config.Workdir != "/srv/app" {
		t.Fatalf("template: %+v", tpl)
	}

	created := time.Now()
	sb := create(t, s, client.CreateRequest{Template: "my-app"})
	t.Logf("create from the custom template: %v", time.Since(created).Round(time.Millisecond))
	// The CMD's dev server answers at the sandbox's URL as soon as create returns.
	resp, body := get(t, s.viaProxy(), s.devURL(sb, 3000)+"/", map[string]string{"X-Runtools-Access-Token": sb.AccessToken})
	if resp.StatusCode != 200 || body != "mode=production user=app cwd=/srv/app" {
		t.Errorf("the dev server right after create: %d %q", resp.StatusCode, body)
	}
	res := sh(t, sb, `id -un; pwd; echo "$GREETING"; /usr/games/cowsay moo | grep -c moo; python3 -c 'import rtprobe; print(rtprobe.X)'; `+
		`ls /usr/local/lib/node_modules; test -e /usr/bin/less && echo less-present; ls -a /srv/app`)
	out := string(res.Stdout)
	for _, want := range []string{"app\n/srv/app\nhowdy\n1\n42\n", "is-number", "server.js", "notes"} {
		if !strings.Contains(out, want) {
			t.Errorf("in the sandbox, want %q in:\n%s%s", want, out, res.Stderr)
		}
	}
	for _, unwanted := range []string{"less-present", "secrets.txt", "node_modules\n"} {
		if strings.Contains(out, unwanted) && !(unwanted == "node_modules\n" && strings.Contains(out, "lib/node_modules")) {
			t.Errorf("in the sandbox, %q should not be there:\n%s", unwanted, out)
		}
	}

	t.Run("cached rebuild", func(t *testing.T) {
		writeTree(t, dir, map[string]string{"server.js": strings.Replace(appContext["server.js"], "mode=", "MODE=", 1)})
		start := time.Now()
		tpl2, lines, err := buildTemplate(t, s, "my-app", dir, client.BuildOptions{BuildArgs: map[string]string{"GREETING": "howdy"}})
		if err != nil {
			t.Fatalf("rebuild: %v\n%s", err, progressText(lines))
		}
		t.Logf("rebuild after changing server.js: %v", time.Since(start).Round(time.Millisecond))
		if tpl2.Version != 2 {
			t.Errorf("a rebuild made version %d, want 2", tpl2.Version)
		}
		for _, p := range lines {
			if p.Index == 0 || p.Detail != "" {
				continue
			}
			layerStep := strings.Contains(p.Step, "] RUN ") || strings.Contains(p.Step, "] COPY ") || strings.Contains(p.Step, "] WORKDIR ")
			if layerStep && p.Index < 9 && !p.Cached {
				t.Errorf("step %d (%s) ran again, want it cached", p.Index, p.Step)
			}
			if p.Index == 9 && p.Cached {
				t.Errorf("the COPY of the changed file came from the cache")
			}
		}
		// The old version's sandbox keeps its files.
		if res := sh(t, sb, "cat /srv/app/server.js"); !strings.Contains(string(res.Stdout), "mode=") {
			t.Errorf("the sandbox of version 1 sees %q", res.Stdout)
		}
		sb2 := create(t, s, client.CreateRequest{Template: "my-app"})
		if res := sh(t, sb2, "cat /srv/app/server.js"); !strings.Contains(string(res.Stdout), "MODE=") {
			t.Errorf("a sandbox of version 2 sees %q", res.Stdout)
		}
	})

	t.Run("in use", func(t *testing.T) {
		err := s.client().RemoveTemplate(ctxT(t, time.Minute), "my-app")
		if !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), sb.ID) {
			t.Errorf("removing a template in use: %v, want a conflict naming %s", err, sb.ID)
		}
		hist, err := s.client().TemplateHistory(ctxT(t, time.Minute), "my-app")
		if err != nil || len(hist) != 2 || hist[0].Version != 2 {
			t.Errorf("history: %+v, %v", hist, err)
		}
	})
}

func TestCustomTemplateMultiStage(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Dockerfile": `FROM base AS builder
WORKDIR /src
COPY main.c .
RUN gcc -O2 -o hello main.c
FROM base
COPY --from=builder /src/hello /usr/local/bin/hello
RUN hello > /etc/greeting
`,
		"main.c": "#include <stdio.h>\nint main(void) { puts(\"built in stage one\"); return 0; }\n",
	})
	if _, lines, err := buildTemplate(t, s, "multi", dir, client.BuildOptions{}); err != nil {
		t.Fatalf("build: %v\n%s", err, progressText(lines))
	}
	sb := create(t, s, client.CreateRequest{Template: "multi"})
	if res := sh(t, sb, "cat /etc/greeting; test -e /src/main.c || echo no-sources"); string(res.Stdout) != "built in stage one\nno-sources\n" {
		t.Errorf("multi-stage result: %q %q", res.Stdout, res.Stderr)
	}

	// A template is its team's until an admin makes it public.
	other := teamClient(t, s, "others")
	if _, err := other.Create(ctxT(t, time.Minute), client.CreateRequest{Template: "multi"}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another team's private template: %v, want not found", err)
	}
	if tpls, _ := other.Templates(ctxT(t, time.Minute)); slices.ContainsFunc(tpls, func(x client.Template) bool { return x.Name == "multi" }) {
		t.Error("another team lists a private template")
	}
	if _, err := other.SetTemplatePublic(ctxT(t, time.Minute), "multi", "", true); !errors.Is(err, client.ErrPermissionDenied) {
		t.Errorf("a plain key made a template public: %v", err)
	}
	if tpl, err := s.client().SetTemplatePublic(ctxT(t, time.Minute), "multi", "", true); err != nil || !tpl.Public {
		t.Fatalf("making it public: %+v, %v", tpl, err)
	}
	sbOther := createWith(t, other, client.CreateRequest{Template: "multi"})
	if res, err := sbOther.Exec(ctxT(t, time.Minute), client.ExecRequest{Cmd: []string{"cat", "/etc/greeting"}}); err != nil || string(res.Stdout) != "built in stage one\n" {
		t.Errorf("another team's sandbox of the public template: %+v, %v", res, err)
	}
	if err := other.RemoveTemplate(ctxT(t, time.Minute), "multi"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another team removed a public template: %v", err)
	}
	// Its owner cannot remove it from under the other team's sandbox.
	s.client().Destroy(ctxT(t, time.Minute), sb.ID)
	if err := s.client().RemoveTemplate(ctxT(t, time.Minute), "multi"); !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), "1 sandbox(es) of other teams") {
		t.Errorf("removing a public template another team's sandbox uses: %v, want a conflict naming it", err)
	}
}

func TestCustomTemplateBadInput(t *testing.T) {
	s := startServer(t)
	cases := []struct {
		name, dockerfile string
		files            map[string]string
		want             string
	}{
		{"malformed", "FROM base\nRUN true\nFRUM x\n", nil, "line 3"},
		{"unsupported", "FROM base\nHEALTHCHECK CMD true\n", nil, "line 2: HEALTHCHECK is not supported"},
		{"missing file", "FROM base\nCOPY nope.txt /x\n", nil, "nope.txt is not in the build context"},
		{"escape", "FROM base\nCOPY ../etc/passwd /x\n", nil, "outside the build context"},
		{"unknown base", "FROM no-such-template\n", nil, "no stage, template or image"},
		{"built-in name", "FROM base\n", nil, "built-in template"},
		{"failing run", "FROM base\nRUN echo first-step-ok\nRUN echo some output; echo on stderr >&2; exit 3\n", nil, "exit code 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"Dockerfile": tc.dockerfile})
			writeTree(t, dir, tc.files)
			name := "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			if tc.name == "built-in name" {
				name = "base"
			}
			_, lines, err := buildTemplate(t, s, name, dir, client.BuildOptions{})
			if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want an invalid argument saying %q\n%s", err, tc.want, progressText(lines))
			}
			if tc.name == "failing run" && !strings.Contains(err.Error(), "on stderr") {
				t.Errorf("a failing RUN's error does not quote its last lines: %v", err)
			}
		})
	}
	// A symlink in the context that leads out of it is refused by name.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nCOPY leak /x\n"})
	os.Symlink("/etc/shadow", filepath.Join(dir, "leak"))
	if _, _, err := buildTemplate(t, s, "bad-link", dir, client.BuildOptions{}); !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "outside the build context") {
		t.Errorf("a symlink out of the context: %v", err)
	}
	// The steps before a failing RUN stay cached.
	dir = t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nRUN echo first-step-ok\nRUN exit 3\n"})
	_, lines, _ := buildTemplate(t, s, "bad-again", dir, client.BuildOptions{})
	if !strings.Contains(progressText(lines), "(cached)") {
		t.Errorf("the step before a failed RUN was not cached:\n%s", progressText(lines))
	}
	noBuildLeft(t, s, "bad-")
}

// noBuildLeft checks that failed builds of templates named with prefix
// left nothing: no template, no build sandbox.
func noBuildLeft(t *testing.T, s *server, prefix string) {
	t.Helper()
	tpls, _ := s.client().Templates(ctxT(t, time.Minute))
	for _, tpl := range tpls {
		if strings.HasPrefix(tpl.Name, prefix) {
			t.Errorf("a failed build left template %s", tpl.Name)
		}
	}
	if sbs, _ := s.client().List(ctxT(t, time.Minute)); len(sbs) != 0 {
		t.Errorf("failed builds left %d sandboxes", len(sbs))
	}
}

func progressText(lines []client.TemplateProgress) string {
	var b strings.Builder
	for _, p := range lines {
		b.WriteString(p.Step)
		if p.Detail != "" {
			b.WriteString("  " + p.Detail)
		}
		if p.Error != "" {
			b.WriteString("  error: " + p.Error)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestCustomTemplateBuildKilled: SIGKILL of the daemon in the middle of a
// RUN leaves no template, and the next start removes the build's sandbox,
// its unfinished layer, its mount and its context.
func TestCustomTemplateBuildKilled(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM base\nRUN echo started; sleep 120\n"})
	started := make(chan struct{})
	go func() {
		tarball, dockerfile, _ := client.ContextTar(dir, "")
		defer tarball.Close()
		once := false
		s.client().BuildCustomTemplate(ctxT(t, 3*time.Minute), "killed", client.BuildOptions{Context: tarball, Dockerfile: dockerfile},
			func(p client.TemplateProgress) {
				if p.Detail == "started" && !once {
					once = true
					close(started)
				}
			})
	}()
	select {
	case <-started:
	case <-time.After(2 * time.Minute):
		t.Fatal("the build's RUN did not start")
	}
	s.kill()
	s.start()
	if tpls, err := s.client().Templates(ctxT(t, time.Minute)); err != nil || slices.ContainsFunc(tpls, func(x client.Template) bool { return x.Name == "killed" }) {
		t.Errorf("after the kill: %v, %v; want no template killed", tpls, err)
	}
	if sbs, _ := s.client().List(ctxT(t, time.Minute)); len(sbs) != 0 {
		t.Errorf("the build's sandbox outlived the restart: %+v", sbs)
	}
	entries, _ := os.ReadDir(filepath.Join(s.dataDir, "layers"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("an unfinished layer outlived the restart: %s", e.Name())
		}
	}
	if ids := runscIDs(s); len(ids) != 0 {
		t.Errorf("runsc containers after the restart: %v", ids)
	}
	if left, _ := os.ReadDir(filepath.Join(s.dataDir, "tmp")); len(left) != 0 {
		t.Errorf("the build's context outlived the restart: %v", left)
	}
}

// TestSandboxSave: a sandbox's files become a template that holds what it
// changed and not what it removed; the sandbox goes on running.
func TestSandboxSave(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	sh(t, sb, "mkdir -p /srv/work && echo saved > /srv/work/note && echo changed >> /etc/issue && rm /usr/bin/less && useradd -m saver && echo p > /home/saver/own && chown saver /home/saver/own && echo in-memory > /tmp/x")
	start := time.Now()
	tpl, err := s.client().SaveSandbox(ctxT(t, 5*time.Minute), sb.ID, "saved-env")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("save: %v, a layer of %d bytes", time.Since(start).Round(time.Millisecond), tpl.SizeBytes)
	if tpl.SizeBytes > 64<<20 {
		t.Errorf("the saved layer takes %d bytes: it should hold only what changed", tpl.SizeBytes)
	}
	if res := sh(t, sb, "cat /srv/work/note"); string(res.Stdout) != "saved\n" {
		t.Errorf("the saved sandbox after the save: %q", res.Stdout)
	}
	uid := string(sh(t, sb, "id -u saver").Stdout)
	copy := create(t, s, client.CreateRequest{Template: "saved-env"})
	res := sh(t, copy, "cat /srv/work/note; tail -1 /etc/issue; test -e /usr/bin/less && echo less-back; stat -c %U /home/saver/own; test -e /tmp/x && echo tmp-kept; id -u saver")
	if got := string(res.Stdout); got != "saved\nchanged\nsaver\n"+uid {
		t.Errorf("a sandbox of the saved template: %q %q", got, res.Stderr)
	}
	// Again, after another change: a new version.
	sh(t, sb, "echo twice > /srv/work/note")
	if tpl2, err := s.client().SaveSandbox(ctxT(t, 5*time.Minute), "no-such-sandbox", "saved-env"); err == nil {
		t.Errorf("saving an unknown sandbox: %+v", tpl2)
	}
	tpl2, err := s.client().SaveSandbox(ctxT(t, 5*time.Minute), sb.ID, "saved-env")
	if err != nil || tpl2.Version != 2 {
		t.Fatalf("a second save: %+v, %v", tpl2, err)
	}
	if sbs, _ := s.client().List(ctxT(t, time.Minute)); len(sbs) != 2 {
		t.Errorf("the saves left sandboxes behind: %d listed, want 2", len(sbs))
	}
}
