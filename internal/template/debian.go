package template

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// caBundle is Debian's CA bundle; update-ca-certificates adds the host's
// extra CAs to it.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// DebianBuilder builds root filesystems with mmdebstrap, using the host's
// apt sources (no mirror is ever named here), then gives the rootfs the
// host's extra CA certificates and npm configuration and runs the recipe's
// steps in a chroot.
type DebianBuilder struct {
	// Mmdebstrap is the mmdebstrap command.
	Mmdebstrap string
	// HostCADir holds the host's extra CA certificates (*.crt), copied into
	// the same directory of the rootfs.
	HostCADir string
	// HostNpmrc is the host's global npm configuration, copied into the
	// rootfs's /etc/npmrc without credentials.
	HostNpmrc string
	// Npm is the host's npm, asked for its registry; skipped if missing.
	Npm string

	log *slog.Logger
}

var _ Builder = (*DebianBuilder)(nil)

// NewDebianBuilder returns a DebianBuilder with the host's standard paths.
func NewDebianBuilder(log *slog.Logger) *DebianBuilder {
	return &DebianBuilder{
		Mmdebstrap: "mmdebstrap",
		HostCADir:  "/usr/local/share/ca-certificates",
		HostNpmrc:  "/etc/npmrc",
		Npm:        "npm",
		log:        log,
	}
}

// debianRelease names suites in progress messages.
var debianRelease = map[string]string{"bookworm": "Debian 12", "trixie": "Debian 13"}

// Build implements Builder.
func (b *DebianBuilder) Build(ctx context.Context, r Recipe, rootfs string, rep Reporter) error {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		return fmt.Errorf("building templates needs root on Linux (chroot, mounts, device nodes): %w", errdefs.ErrUnavailable)
	}
	mmdebstrap, err := exec.LookPath(b.Mmdebstrap)
	if err != nil {
		return fmt.Errorf("mmdebstrap not found (apt-get install mmdebstrap): %w: %w", errdefs.ErrUnavailable, err)
	}
	if r.Suite == "" {
		return fmt.Errorf("recipe %q has no Debian suite: %w", r.Name, errdefs.ErrInvalidArgument)
	}

	release := debianRelease[r.Suite]
	if release == "" {
		release = "Debian " + r.Suite
	}
	rep.Step(fmt.Sprintf("bootstrapping %s (mmdebstrap)", release))
	if err := b.bootstrap(ctx, mmdebstrap, r, rootfs, rep); err != nil {
		return err
	}

	rep.Step("trusting the host's CA certificates and npm configuration")
	if err := b.hostTrust(ctx, rootfs, rep); err != nil {
		return err
	}

	for _, s := range r.Steps {
		rep.Step(s.Name)
		if err := runChroot(ctx, rootfs, s.Script, rep); err != nil {
			return err
		}
	}

	rep.Step("cleaning up")
	return cleanRootfs(ctx, rootfs, rep)
}

func (b *DebianBuilder) bootstrap(ctx context.Context, mmdebstrap string, r Recipe, rootfs string, rep Reporter) error {
	args := []string{"--mode=root", `--aptopt=Acquire::Retries "3"`}
	if r.Variant != "" {
		args = append(args, "--variant="+r.Variant)
	}
	if len(r.Packages) > 0 {
		args = append(args, "--include="+strings.Join(r.Packages, ","))
	}
	for _, o := range r.DpkgOptions {
		args = append(args, "--dpkgopt="+o)
	}
	// No mirror argument: mmdebstrap uses the host's apt sources.
	args = append(args, r.Suite, rootfs)
	b.log.Debug("running mmdebstrap", "args", args)
	cmd := exec.CommandContext(ctx, mmdebstrap, args...)
	return runIsolated(ctx, cmd, rep)
}

// hostTrust copies the host's extra CA certificates and npm configuration
// into the rootfs: egress may go through an intercepting proxy whose CA
// only the host trusts, both while building and later inside sandboxes.
func (b *DebianBuilder) hostTrust(ctx context.Context, rootfs string, rep Reporter) error {
	crts, err := filepath.Glob(filepath.Join(b.HostCADir, "*.crt"))
	if err != nil {
		return fmt.Errorf("listing host CA certificates: %w", err)
	}
	caDir := filepath.Join(rootfs, "usr/local/share/ca-certificates")
	if err := os.MkdirAll(caDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", caDir, err)
	}
	for _, src := range crts {
		if err := copyFile(src, filepath.Join(caDir, filepath.Base(src)), 0o644); err != nil {
			return fmt.Errorf("copying host CA certificate: %w", err)
		}
		fmt.Fprintf(rep, "trusting host CA certificate %s\n", filepath.Base(src))
	}

	npmrc, err := b.npmrc(ctx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc/npmrc"), npmrc, 0o644); err != nil {
		return fmt.Errorf("writing npmrc: %w", err)
	}
	if err := appendLine(filepath.Join(rootfs, "etc/environment"), "NODE_EXTRA_CA_CERTS="+caBundle); err != nil {
		return fmt.Errorf("setting NODE_EXTRA_CA_CERTS: %w", err)
	}
	return runChroot(ctx, rootfs, "if command -v update-ca-certificates >/dev/null; then update-ca-certificates; fi", rep)
}

// npmrc returns the rootfs's /etc/npmrc: the host's global npm settings
// without credentials, plus the registry the host's npm uses.
func (b *DebianBuilder) npmrc(ctx context.Context) ([]byte, error) {
	var out bytes.Buffer
	out.WriteString("# From the host that built this template (credentials left out).\n")
	hasRegistry := false
	host, err := os.ReadFile(b.HostNpmrc)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading host npmrc: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, _, _ := strings.Cut(line, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if isNpmSecret(key) {
			continue
		}
		if key == "registry" {
			hasRegistry = true
		}
		out.WriteString(line + "\n")
	}
	if !hasRegistry {
		if reg := b.hostRegistry(ctx); reg != "" {
			out.WriteString("registry=" + reg + "\n")
		}
	}
	return out.Bytes(), nil
}

func isNpmSecret(key string) bool {
	for _, s := range []string{"_auth", "_password", "token", "password", "certfile", "keyfile", "key", "cert"} {
		if strings.HasSuffix(key, s) || strings.Contains(key, ":"+s) {
			return true
		}
	}
	return false
}

// hostRegistry asks the host's npm which registry it uses ("" if unknown).
func (b *DebianBuilder) hostRegistry(ctx context.Context) string {
	npm, err := exec.LookPath(b.Npm)
	if err != nil {
		b.log.Info("no npm on the host; templates use npm's default registry")
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "config", "get", "registry").Output()
	if err != nil {
		b.log.Warn("asking host npm for its registry", "err", err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

// cleanRootfs drops caches and host-specific files and sets up what a
// sandbox root needs: /root, /tmp (1777), an /etc/resolv.conf placeholder
// the agent overwrites at boot, and a neutral hostname.
func cleanRootfs(ctx context.Context, rootfs string, rep io.Writer) error {
	const script = `apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /root/.npm /root/.cache /var/tmp/*
find /tmp -mindepth 1 -delete`
	if err := runChroot(ctx, rootfs, script, rep); err != nil {
		return err
	}
	files := []struct {
		path, content string
	}{
		{"etc/resolv.conf", "# Written by the runtools agent when the sandbox boots.\n"},
		{"etc/hostname", "sandbox\n"},
		{"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
	}
	for _, f := range files {
		p := filepath.Join(rootfs, f.path)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replacing /%s: %w", f.path, err)
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return fmt.Errorf("writing /%s: %w", f.path, err)
		}
	}
	dirs := []struct {
		path string
		mode os.FileMode
	}{
		{".", 0o755},
		{"root", 0o700},
		{"tmp", 0o777 | os.ModeSticky},
		{"var/tmp", 0o777 | os.ModeSticky},
	}
	for _, d := range dirs {
		p := filepath.Join(rootfs, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("creating /%s: %w", d.path, err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("chmod /%s: %w", d.path, err)
		}
	}
	return nil
}

func copyFile(src, dst string, perm os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, perm)
}

// appendLine appends line to path unless it is already there.
func appendLine(path, line string) error {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if l == line {
			return nil
		}
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	return os.WriteFile(path, append(data, line+"\n"...), 0o644)
}
