package main

import (
	"slices"
	"strings"
	"testing"
)

func TestFlagsDefaults(t *testing.T) {
	c, err := parseFlags([]string{"-runs", "20", "-out", "BENCHMARKS.md"})
	if err != nil {
		t.Fatal(err)
	}
	if c.runs != 20 || c.execRuns != 100 || c.pauseRuns != 20 || c.out != "BENCHMARKS.md" || c.template != "base" || !c.podman {
		t.Errorf("defaults: %+v", c)
	}
	if c.only.partial() || !slices.Equal(c.only, sectionNames()) {
		t.Errorf("no -only should run every section: %v", c.only)
	}
	want := "`go run ./bench -runs 20 -exec-runs 100 -pause-runs 20 -snapshot-runs 10 -big-runs 5 -big-mb 140 -proxy-seconds 5 -proxy-conns 16 -wake-runs 5 -ssh-runs 20 -login-runs 10 -scp-runs 3 -scp-mb 100 -disk-runs 3 -desktop-runs 3 -desktop-shot-runs 20 -desktop-pause-runs 3 -code-runs 100 -code-first-runs 3 -event-runs 20 -density-max 150 -density-batch 4 -density-floor 15 -cluster-creates 30 -cluster-move-runs 5 -cluster-drain 3`"
	if got := c.commandLine(); got != want {
		t.Errorf("commandLine:\n%s\nwant\n%s", got, want)
	}
}

func TestSectionNames(t *testing.T) {
	want := []string{"create", "exec", "pause", "proxy", "ssh", "disk", "desktop", "templates", "code", "events", "density", "cluster", "reuse"}
	if got := sectionNames(); !slices.Equal(got, want) {
		t.Errorf("sections %v, want %v", got, want)
	}
}

func TestOnly(t *testing.T) {
	c, err := parseFlags([]string{"-only", " reuse,pause ,reuse", "-pause-runs", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.only, sectionSet{"pause", "reuse"}) || !c.only.partial() {
		t.Errorf("-only: %v, want pause, reuse in the order they run", c.only)
	}
	var names []string
	for _, s := range selected(c) {
		names = append(names, s.Name())
	}
	if !slices.Equal(names, []string{"pause", "reuse"}) {
		t.Errorf("selected: %v", names)
	}
	if !strings.HasSuffix(c.commandLine(), " -only pause,reuse`") {
		t.Errorf("a partial run's command line should say -only: %s", c.commandLine())
	}
	if _, err := parseFlags([]string{"-only", "pause,nope"}); err == nil || !strings.Contains(err.Error(), `unknown section "nope"`) {
		t.Errorf("an unknown section gave %v", err)
	}
}

func TestFlagsChecked(t *testing.T) {
	for _, args := range [][]string{
		{"-runs", "0"}, {"-density-floor", "95"}, {"-proxy-conns", "0"}, {"-desktop-runs", "-1"}, {"-disk-runs", "-1"}, {"-code-runs", "-1"}, {"-cluster-creates", "-1"}, {"-cluster-drain", "0"}, {"-subnet", "nonsense"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
