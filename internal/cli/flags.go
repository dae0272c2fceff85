package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// parseKeyValues turns repeated --flag K=V values into a map. A value
// without "=" is a usage error.
func parseKeyValues(cmd *cobra.Command, flag string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(values))
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErr(cmd, "--%s needs KEY=VALUE, got %q", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// argsRange checks the number of positional arguments, failing with a
// usage error that says what was expected, e.g. "needs a sandbox NAME or ID".
func argsRange(min, max int, want string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usageErr(cmd, "%s %s (got %d argument%s)", cmd.CommandPath(), want, len(args), plural(len(args)))
		}
		return nil
	}
}

// checkName rejects an empty sandbox, team or key reference before it
// reaches the server.
func checkName(cmd *cobra.Command, what, name string) error {
	if strings.TrimSpace(name) == "" {
		return usageErr(cmd, "%s must not be empty", what)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
