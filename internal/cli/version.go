package cli

import "github.com/spf13/cobra"

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the runtools version",
		Long:    "Print the version of this runtools binary and the Go toolchain it was built with.",
		Example: "  runtools version",
		Args:    argsRange(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			writef(cmd.OutOrStdout(), "runtools %s (%s)\n", a.version, goVersion())
			return nil
		},
	}
}
