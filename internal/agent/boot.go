package agent

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// Boot files; variables so tests could point them elsewhere.
var (
	resolvConfPath = "/etc/resolv.conf"
	hostnamePath   = "/etc/hostname"
	hostsPath      = "/etc/hosts"
)

// boot writes the sandbox's name-resolution files. It is a handful of small
// writes (well under a millisecond) because the daemon measures create
// latency up to the first answered /health. Failures are logged, not fatal:
// a read-only /etc makes the sandbox degraded, not useless.
//
// The files are written concurrently: creating a file can cost a millisecond
// on some file systems, rewriting one far less.
func boot(cfg Config, log *slog.Logger) {
	var wg sync.WaitGroup
	if len(cfg.DNS) > 0 {
		var b strings.Builder
		for _, ns := range cfg.DNS {
			fmt.Fprintf(&b, "nameserver %s\n", ns)
		}
		wg.Go(func() { writeBootFile(log, resolvConfPath, b.String()) })
	}
	if cfg.Hostname != "" {
		wg.Go(func() { writeBootFile(log, hostnamePath, cfg.Hostname+"\n") })
		wg.Go(func() { writeBootFile(log, hostsPath, hostsFile(cfg.Hostname)) })
	}
	wg.Wait()
}

func hostsFile(hostname string) string {
	return "127.0.0.1\tlocalhost\n" +
		"127.0.1.1\t" + hostname + "\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n"
}

func writeBootFile(log *slog.Logger, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		log.Error("writing boot file", "path", path, "err", err)
	}
}
