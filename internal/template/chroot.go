package template

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// chrootEnv is the whole environment of a recipe step: nothing leaks in
// from the host. /usr/local/bin comes first so that npm-installed Node.js
// wins over any Debian one.
var chrootEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"NODE_EXTRA_CA_CERTS=" + caBundle,
	"npm_config_update_notifier=false",
	"npm_config_fund=false",
	"npm_config_audit=false",
	"npm_config_progress=false",
}

// chrootWrapper runs on the host inside fresh mount and PID namespaces
// (see isolatedProcAttr): its mounts vanish with the namespace, even if the
// step is killed, so there is nothing to unmount. In "ro" mode the root is
// bind-mounted read-only with tmpfs on /tmp and /root, like a sandbox that
// must not change its template.
const chrootWrapper = `set -e
root="$1"; script="$2"; mode="$3"; shift 3
if [ "$mode" = ro ]; then
	mount --bind "$root" "$root"
	mount -o remount,bind,ro "$root"
	mount -t tmpfs tmpfs "$root/tmp"
	mount -t tmpfs tmpfs "$root/root"
fi
mount -t proc proc "$root/proc"
exec chroot "$root" /usr/bin/env -i "$@" /bin/sh -euc "$script"`

// runChroot runs script with sh -eu inside rootfs, output to out.
func runChroot(ctx context.Context, rootfs, script string, out io.Writer) error {
	return chroot(ctx, rootfs, script, "rw", out)
}

// runChrootReadOnly is runChroot on a read-only view of rootfs.
func runChrootReadOnly(ctx context.Context, rootfs, script string, out io.Writer) error {
	return chroot(ctx, rootfs, script, "ro", out)
}

func chroot(ctx context.Context, rootfs, script, mode string, out io.Writer) error {
	args := append([]string{"-c", chrootWrapper, "runtools-chroot", rootfs, script, mode}, chrootEnv...)
	cmd := exec.CommandContext(ctx, "/bin/sh", args...)
	return runIsolated(ctx, cmd, out)
}

// runIsolated runs cmd in its own namespaces and process group with its
// output going to out, and kills the whole group when ctx is done.
func runIsolated(ctx context.Context, cmd *exec.Cmd, out io.Writer) error {
	cmd.Stdin = nil
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = isolatedProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", commandName(cmd), err)
	}
	return nil
}

func commandName(cmd *exec.Cmd) string {
	if len(cmd.Args) > 2 && cmd.Args[2] == chrootWrapper {
		return "chroot step"
	}
	return strings.Join(cmd.Args[:min(len(cmd.Args), 1)], " ")
}
