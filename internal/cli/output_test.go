package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func TestHumanSize(t *testing.T) {
	tests := map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KB", 3565158: "3.4 MB", 612 << 20: "612 MB", 5 << 30: "5.0 GB", 2 << 40: "2.0 TB",
	}
	for n, want := range tests {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{-time.Second, "0s"}, {45 * time.Second, "45s"}, {3 * time.Minute, "3m"}, {2*time.Hour + 59*time.Minute, "2h"},
		{47 * time.Hour, "47h"}, {50 * time.Hour, "2d"},
	}
	for _, tt := range tests {
		if got := age(testNow, testNow.Add(-tt.ago)); got != tt.want {
			t.Errorf("age(%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := age(testNow, time.Time{}); got != "-" {
		t.Errorf("age(zero) = %q", got)
	}
}

func TestElapsed(t *testing.T) {
	tests := map[time.Duration]string{
		412 * time.Millisecond: "412ms", 2345 * time.Millisecond: "2.3s", 72 * time.Second: "1m12s",
	}
	for d, want := range tests {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"sh", "-c", "echo 'hi' > /tmp/x", ""})
	want := `sh -c 'echo '\''hi'\'' > /tmp/x' ''`
	if got != want {
		t.Errorf("quoteArgs = %s, want %s", got, want)
	}
}

func TestProgressOnlyAtTerminal(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "create", "--name", "web", "-q")
	if r.stderr != "" || r.stdout != "sandbox-test0001\n" {
		t.Fatalf("not a terminal: %+v", r)
	}
	h.tty = true
	r = h.run("sandbox", "create", "--name", "web2", "--template", "desktop", "-q")
	if r.stderr != "creating sandbox web2 from desktop... done (0s)\n" || r.stdout != "sandbox-test0002\n" {
		t.Fatalf("terminal: %+v", r)
	}
}

func TestUnknownRootCommand(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandboxx")
	if r.code != 2 || r.stderr != "error: unknown command \"sandboxx\" for \"runtools\"; did you mean \"sandbox\"?\nRun 'runtools --help' for usage.\n" {
		t.Fatalf("%+v", r)
	}
	r = h.run()
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("no args should show help: %+v", r)
	}
}

func TestEmptyListIsJSONArray(t *testing.T) {
	call := listOf(func(*cobra.Command, *client.Client, []string) ([]string, error) { return nil, nil })
	items, err := call(&cobra.Command{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := printJSON(&out, items); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "[]\n" {
		t.Errorf("an empty list as JSON = %q, want []", got)
	}
}
