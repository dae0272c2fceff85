package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/runtools/runtools/internal/agent"
)

func agentCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "agent",
		Short:  "Run the in-sandbox agent (PID 1 of every sandbox; started by the server)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := agent.ConfigFromEnv()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			return agent.Run(cmd.Context(), cfg, log)
		},
	}
}
