package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	time.Local = time.UTC // timestamps in goldens
	os.Exit(m.Run())
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// harness runs the CLI in-process against a fake server.
type harness struct {
	t     *testing.T
	fake  *fake
	env   map[string]string
	stdin string
	tty   bool // pretend stdin and stderr are terminals
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	f, srv := newFake(t)
	dir := t.TempDir()
	return &harness{t: t, fake: f, env: map[string]string{
		"RUNTOOLS_URL":     srv.URL,
		"RUNTOOLS_API_KEY": testKey,
		"RUNTOOLS_CONFIG":  filepath.Join(dir, "config", "config.json"),
		"HOME":             dir,
	}}
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	a := &app{
		version:  "1.2.3",
		getenv:   func(k string) string { return h.env[k] },
		now:      func() time.Time { return testNow },
		terminal: func(any) bool { return h.tty },
	}
	root := a.root()
	var stdout, stderr bytes.Buffer
	root.SetIn(strings.NewReader(h.stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	code := execute(context.Background(), root)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", p, got, want)
	}
}

// transcript renders a run for a golden file.
func transcript(args []string, r result) string {
	var b strings.Builder
	b.WriteString("$ runtools " + quoteArgs(args) + "\n")
	b.WriteString(r.stdout)
	if r.stderr != "" {
		b.WriteString("--- stderr\n" + r.stderr)
	}
	if r.code != 0 {
		b.WriteString("--- exit " + strconv.Itoa(r.code) + "\n")
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   string
		stdin  string
	}{
		{"sandbox_list.txt", "sandbox list", ""},
		{"sandbox_list_json.txt", "sb ls -o json", ""},
		{"sandbox_list_label.txt", "sandbox list --label app=web --label env=staging", ""},
		{"sandbox_list_bad_label.txt", "sandbox list --label app", ""},
		{"sandbox_create_timeout.txt", "sandbox create --name tmp --label app=tmp --timeout 90m --on-timeout pause", ""},
		{"sandbox_create_bad_timeout.txt", "sandbox create --timeout soon", ""},
		{"sandbox_get.txt", "sandbox get my-env", ""},
		{"sandbox_get_json.txt", "sandbox get sandbox-aaaa1111 -o json", ""},
		{"sandbox_create.txt", "sandbox create --name web --vcpus 4 --memory 2048 --env A=1", ""},
		{"sandbox_create_json.txt", "sandbox create --name web --metadata owner=bob -o json", ""},
		{"sandbox_create_quiet.txt", "sandbox create -q", ""},
		{"sandbox_create_taken.txt", "sandbox create --name my-env", ""},
		{"sandbox_destroy.txt", "sandbox destroy my-env nope sandbox-bbbb2222", ""},
		{"sandbox_ps.txt", "sandbox ps my-env", ""},
		{"sandbox_ls.txt", "sandbox ls my-env", ""},
		{"sandbox_ls_bin.txt", "sandbox ls my-env /root/bin", ""},
		{"sandbox_ls_file.txt", "sandbox ls my-env /root/hello.txt", ""},
		{"sandbox_cat.txt", "sandbox cat my-env /root/hello.txt", ""},
		{"sandbox_cat_missing.txt", "sandbox cat my-env /root/nope", ""},
		{"sandbox_logs.txt", "sandbox logs my-env 100", ""},
		{"sandbox_logs_follow.txt", "sandbox logs my-env 100 -f", ""},
		{"sandbox_ls_sandboxes.txt", "sandbox ls", ""},
		{"sandbox_ps_json.txt", "sandbox ps my-env -o json", ""},
		{"sandbox_kill.txt", "sandbox kill my-env 100 -s sigkill", ""},
		{"sandbox_kill_bad_pid.txt", "sandbox kill my-env abc", ""},
		{"template_list.txt", "template list", ""},
		{"template_list_json.txt", "tpl ls -o json", ""},
		{"template_get.txt", "template get base-ubuntu", ""},
		{"template_get_missing.txt", "template get nope", ""},
		{"template_build.txt", "template build base", ""},
		{"template_build_failed.txt", "template build broken", ""},
		{"team_list.txt", "team list", ""},
		{"team_create.txt", "team create globex", ""},
		{"team_update.txt", "team update acme --max-sandboxes 10 --max-memory 16G --max-disk 50G --max-builds unlimited", ""},
		{"team_update_nothing.txt", "team update acme", ""},
		{"team_update_bad.txt", "team update acme --max-memory lots", ""},
		{"usage.txt", "usage", ""},
		{"key_create.txt", "key create deploy --team acme", ""},
		{"key_list.txt", "key list", ""},
		{"key_delete.txt", "key revoke ci", ""},
		{"webhook_add.txt", "webhook add http://127.0.0.1:9000/hook --events created,timeout", ""},
		{"webhook_add_json.txt", "webhook add https://example.com/hook -o json", ""},
		{"webhook_list.txt", "webhook list", ""},
		{"webhook_rm_missing.txt", "webhook rm wh_nope", ""},
		{"webhook_deliveries.txt", "webhook deliveries wh_1", ""},
		{"help_webhook.txt", "webhook --help", ""},
		{"version.txt", "version", ""},
		{"help_root.txt", "--help", ""},
		{"help_sandbox.txt", "sandbox", ""},
		{"help_sandbox_exec.txt", "sandbox exec --help", ""},
		{"help_sandbox_cp.txt", "sandbox cp --help", ""},
		{"help_sandbox_create.txt", "help sandbox create", ""},
		{"usage_unknown_command.txt", "sandbox lst", ""},
		{"usage_unknown_flag.txt", "sandbox list --bogus", ""},
		{"usage_missing_arg.txt", "sandbox get", ""},
		{"usage_bad_env.txt", "sandbox create --env FOO", ""},
		{"usage_bad_volume.txt", "sandbox create --volume data", ""},
		{"usage_bad_volume_size.txt", "volume create data --size 10X", ""},
		{"help_volume.txt", "volume", ""},
		{"usage_bad_output.txt", "sandbox list -o yaml", ""},
		{"usage_exec_no_cmd.txt", "sandbox exec my-env", ""},
		{"usage_cp_relative.txt", "sandbox cp a.txt my-env:root/a.txt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			h := newHarness(t)
			h.stdin = tt.stdin
			args := strings.Fields(tt.args)
			r := h.run(args...)
			got := strings.ReplaceAll(transcript(args, r), goVersion(), "GOVERSION")
			golden(t, tt.golden, got)
		})
	}
}
