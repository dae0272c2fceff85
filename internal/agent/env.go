package agent

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/errdefs"
)

const (
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	caBundle    = "/etc/ssl/certs/ca-certificates.crt"
)

// checkEnv rejects variables that execve cannot carry.
func checkEnv(env map[string]string) error {
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%w: bad environment variable %q", errdefs.ErrInvalidArgument, k)
		}
	}
	return nil
}

// buildEnv layers, lowest first: built-in defaults, the agent's base
// environment, the user's variables, the request's variables.
func buildEnv(base map[string]string, u *user, req map[string]string) []string {
	env := make(map[string]string, 8+len(base)+len(req))
	env["PATH"] = defaultPath
	env["LANG"] = "C.UTF-8"
	if _, err := os.Stat(caBundle); err == nil {
		env["NODE_EXTRA_CA_CERTS"] = caBundle
	}
	for k, v := range base {
		env[k] = v
	}
	env["HOME"] = u.Home
	env["USER"] = u.Name
	env["LOGNAME"] = u.Name
	env["SHELL"] = u.Shell
	for k, v := range req {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func lookupEnv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lookPath finds file in the child's PATH (not the agent's). A name with a
// slash is used as is; the kernel resolves a relative one against the
// child's working directory. Not found is ErrNotFound (exit 127); found but
// not executable is ErrPermissionDenied (exit 126).
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	denied := ""
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		if fi.Mode()&0o111 != 0 {
			return p, nil
		}
		if denied == "" {
			denied = p
		}
	}
	if denied != "" {
		return "", fmt.Errorf("%w: %s: %w", errdefs.ErrPermissionDenied, denied, fs.ErrPermission)
	}
	return "", fmt.Errorf("%w: executable %q not found in PATH", errdefs.ErrNotFound, file)
}

// workDir returns the process's working directory: cwd if given (it must be
// an absolute path to a directory), else the user's home, else "/".
func workDir(cwd string, u *user) (string, error) {
	if cwd == "" {
		if fi, err := os.Stat(u.Home); err == nil && fi.IsDir() {
			return u.Home, nil
		}
		return "/", nil
	}
	if !filepath.IsAbs(cwd) {
		return "", fmt.Errorf("%w: working directory %q is not absolute", errdefs.ErrInvalidArgument, cwd)
	}
	cwd = filepath.Clean(cwd)
	fi, err := os.Stat(cwd)
	if err != nil {
		return "", fmt.Errorf("%w: working directory: %w", errdefs.ErrInvalidArgument, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%w: working directory %s: %w", errdefs.ErrInvalidArgument, cwd, syscall.ENOTDIR)
	}
	return cwd, nil
}

// lookPath is lookPath with answers remembered for cacheTTL.
func (s *Server) lookPath(file, path string) (string, error) {
	key := "path\x00" + file + "\x00" + path
	if p, ok := s.recent.get(key); ok {
		return p, nil
	}
	p, err := lookPath(file, path)
	if err == nil {
		s.recent.put(key, p)
	}
	return p, err
}

// workDir is workDir with a user's existing home remembered for cacheTTL.
// An explicit cwd is always checked, so its error names it.
func (s *Server) workDir(cwd string, u *user) (string, error) {
	if cwd != "" {
		return workDir(cwd, u)
	}
	key := "home\x00" + u.Home
	if d, ok := s.recent.get(key); ok {
		return d, nil
	}
	d, err := workDir("", u)
	if err == nil && d == u.Home {
		s.recent.put(key, d)
	}
	return d, err
}
