package main

import (
	"context"
	"fmt"
	"os"
)

// measureAccessSections measures the two ways in from outside, the
// dev-server proxy and the SSH gateway, into rep. A section that fails is
// reported as not measured, with the reason, so that the rest of the
// report survives; an interruption stops the bench. Sections left out
// with -only are not run.
func measureAccessSections(ctx context.Context, undo *undoStack, rep *report, srv *server) error {
	var err error
	if rep.cfg.only.has(secProxy) {
		if rep.proxy, err = measureProxy(ctx, undo, srv, rep.cfg); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("dev-server proxy: %w", err)
			}
			fmt.Fprintf(os.Stderr, "\nbench: the dev-server proxy section failed: %v\n", err)
			rep.proxy.skipped = "failed: " + err.Error()
		}
	}
	if rep.cfg.only.has(secSSH) {
		if rep.ssh, err = measureSSH(ctx, undo, srv, rep.cfg); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("SSH gateway: %w", err)
			}
			fmt.Fprintf(os.Stderr, "\nbench: the SSH gateway section failed: %v\n", err)
			rep.ssh.skipped = "failed: " + err.Error()
		}
	}
	return nil
}
