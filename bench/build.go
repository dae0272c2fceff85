package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ensureBinary makes cfg.binary absolute, building it if it is missing.
func ensureBinary(ctx context.Context, cfg *config) error {
	abs, err := filepath.Abs(cfg.binary)
	if err != nil {
		return fmt.Errorf("-bin: %w", err)
	}
	cfg.binary = abs
	if _, err := os.Stat(abs); err == nil {
		return nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	fmt.Fprintf(os.Stderr, "bench: building %s\n", abs)
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", abs, "./cmd/runtools")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building runtools (run the bench from the repository root): %w\n%s", err, out)
	}
	return nil
}
