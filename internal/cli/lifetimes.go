package cli

// Lifetimes and labels: the flags that set them (create, update, list)
// and how a sandbox shows them.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// parseLifetime reads a --timeout value: a duration such as 90s, 30m or
// 2h, or a number of seconds; 0 means none. It returns whole seconds.
func parseLifetime(cmd *cobra.Command, flag, s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || (d > 0 && d < time.Second) || d%time.Second != 0 {
		return 0, usageErr(cmd, "--%s takes a duration in whole seconds such as 90s, 30m or 2h (0 for none), got %q", flag, s)
	}
	return int(d / time.Second), nil
}

// checkOnTimeout checks an --on-timeout value.
func checkOnTimeout(cmd *cobra.Command, on string) error {
	if on != "" && on != "destroy" && on != "pause" {
		return usageErr(cmd, "--on-timeout is destroy or pause, got %q", on)
	}
	return nil
}

// parseLabelChanges reads update's --label values: KEY=VALUE sets a
// label, KEY- removes it.
func parseLabelChanges(cmd *cobra.Command, values []string) (set map[string]string, remove []string, err error) {
	var sets []string
	for _, v := range values {
		if k, ok := strings.CutSuffix(v, "-"); ok && !strings.Contains(v, "=") {
			remove = append(remove, k)
			continue
		}
		sets = append(sets, v)
	}
	set, err = parseKeyValues(cmd, "label", sets)
	return set, remove, err
}

// lifetimeFields writes a sandbox's labels and when its lifetimes fall due.
func (a *app) lifetimeFields(t *table, sb *client.Sandbox, field func(k, v string)) {
	if sb.TimeoutAt != nil {
		field("timeout", fmt.Sprintf("%s at %s (in %s)", orDefault(sb.OnTimeout, "destroy"), sb.TimeoutAt.Local().Format(time.DateTime), age(*sb.TimeoutAt, a.now())))
	}
	if sb.PausedTTLAt != nil {
		field("paused ttl", fmt.Sprintf("destroy at %s (in %s)", sb.PausedTTLAt.Local().Format(time.DateTime), age(*sb.PausedTTLAt, a.now())))
	}
	mapField(t, "labels", sb.Labels)
}

// dueColumn is the list's DUE column: what comes next of a sandbox's
// lifetimes and when, "-" for nothing.
func (a *app) dueColumn(sb *client.Sandbox) string {
	switch {
	case sb.TimeoutAt != nil:
		return orDefault(sb.OnTimeout, "destroy") + " in " + age(*sb.TimeoutAt, a.now())
	case sb.PausedTTLAt != nil:
		return "destroy in " + age(*sb.PausedTTLAt, a.now())
	}
	return "-"
}
