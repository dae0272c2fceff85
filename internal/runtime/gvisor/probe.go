package gvisor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// probePlatform picks kvm when /dev/kvm is usable and a tiny sandbox boots
// on it within a few seconds, else systrap. Some nested-virtualization
// hosts expose /dev/kvm but hang gVisor's kvm platform, so the device
// alone is not enough. The answer is cached until reboot (in /run), per
// kernel and runsc build.
func (r *Runtime) probePlatform(ctx context.Context) string {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "systrap"
	}
	f.Close()
	key := r.probeKey()
	cache := filepath.Join(probeCacheDir, "platform-probe")
	if data, err := os.ReadFile(cache); err == nil {
		if k, p, ok := strings.Cut(strings.TrimSpace(string(data)), " "); ok && k == key {
			return p
		}
	}
	platform := "systrap"
	if r.bootsOnKVM(ctx) {
		platform = "kvm"
	} else {
		r.log.Warn("/dev/kvm exists but gVisor's kvm platform did not boot a probe sandbox; using systrap")
	}
	_ = os.MkdirAll(probeCacheDir, 0o700)
	_ = os.WriteFile(cache, []byte(key+" "+platform+"\n"), 0o600)
	return platform
}

// probeCacheDir holds the probe's answer; /run is emptied at boot.
const probeCacheDir = "/run/runtools"

func (r *Runtime) probeKey() string {
	var uts syscall.Utsname
	_ = syscall.Uname(&uts)
	var rel []byte
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	st, _ := os.Stat(r.cfg.Runsc)
	var mod string
	if st != nil {
		mod = st.ModTime().UTC().Format("20060102T150405") + "-" + strconv.FormatInt(st.Size(), 10)
	}
	return strings.ReplaceAll(string(rel)+"/"+mod, " ", "_")
}

// bootsOnKVM runs `runsc do true` on the kvm platform with a deadline and
// kills whatever the probe left behind.
func (r *Runtime) bootsOnKVM(ctx context.Context) bool {
	root, err := os.MkdirTemp("", "runtools-kvm-probe-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(root)
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.cfg.Runsc, "--root="+root, "--platform=kvm", "--network=none", "do", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// runsc do makes its bundle and control socket in a temporary
	// directory it does not remove when killed: put it under root.
	cmd.Env = append(os.Environ(), "TMPDIR="+root)
	err = cmd.Run()
	killMatching("--root=" + root)
	return err == nil && ctx.Err() == nil
}

// killMatching SIGKILLs every process whose command line contains s. runsc
// starts its sandbox and gofer in sessions of their own, so killing the
// probe's process group does not reach them.
func killMatching(s string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(data), s) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
