// Package host is the bench's machine: running commands, reading /proc,
// network namespaces and links, the template cache's fingerprint, and the
// stack of cleanup steps that removes everything the bench makes.
package host

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Command runs name with args and returns its standard output. The child
// gets a process group of its own, so a Ctrl-C on the terminal reaches only
// the bench, which then cleans up in order. The error carries the command
// line and its standard error.
func Command(ctx context.Context, name string, args ...string) (string, error) {
	return CommandInput(ctx, "", name, args...)
}

// CommandInput is Command with stdin as the child's standard input.
func CommandInput(ctx context.Context, stdin, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// LastLines returns the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
