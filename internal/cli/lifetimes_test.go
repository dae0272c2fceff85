package cli

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func TestLifetimeFlags(t *testing.T) {
	cmd := &cobra.Command{Use: "update"}
	for in, want := range map[string]int{"90s": 90, "30m": 1800, "2h": 7200, "45": 45, "0": 0, "0s": 0} {
		if got, err := parseLifetime(cmd, "timeout", in); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-5", "-1m", "500ms", "1.5s"} {
		if _, err := parseLifetime(cmd, "timeout", bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	set, remove, err := parseLabelChanges(cmd, []string{"env=prod", "scratch-", "note=a-", "old-"})
	if err != nil || len(set) != 2 || set["note"] != "a-" || set["env"] != "prod" || !slices.Equal(remove, []string{"scratch", "old"}) {
		t.Errorf("label changes: %v %v %v", set, remove, err)
	}
}
